"""`provisioner logs NAME`: an endpoint's replica logs, scrubbed; `--follow` polls until it
settles (bounded)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from provisioner.apply.logs import (
    DEFAULT_FOLLOW_TIMEOUT,
    Following,
    LogReader,
    log_scrubber,
    resolve,
)
from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option, examples
from provisioner.cli.run import Seconds
from provisioner.cli.session import connect, load
from provisioner.hub.errors import ApiError
from provisioner.spec.diagnostics import ProvisionerError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
# A year: a typo (an extra digit) is refused rather than read as "everything".
MAX_SINCE = 366 * 86400


class Duration(click.ParamType[Any, int]):
    """`90s`, `15m`, `2h`, `1d`, `1h30m` or a number of seconds, as whole seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        seconds: int | None = None
        if text.isdigit():
            seconds = int(text)
        else:
            found = _DURATION.fullmatch(text)
            if found and text:
                parts = zip(found.groups(), "dhms", strict=True)
                seconds = sum(int(n) * _UNITS[u] for n, u in parts if n is not None)
        if seconds is None or not 0 < seconds <= MAX_SINCE:
            self.fail(
                f"{value!r} is not a duration from 1s to 366d, such as 90s, 15m, 2h, 1d or 1h30m",
                param,
                ctx,
            )
        return seconds


@click.command(
    "logs",
    epilog=examples(
        "provisioner logs chat --dir endpoints --tail 50",
        "provisioner logs acme/chat --since 15m",
        "provisioner logs chat --follow   # until it runs, fails or pauses, and goes quiet",
    ),
)
@click.argument("name")
@dir_option
@api_url_option
@click.option(
    "--tail",
    type=click.IntRange(0, 100_000),
    default=None,
    metavar="N",
    help="Only the last N lines (default: all the service returns).",
)
@click.option(
    "--since",
    type=Duration(),
    default=None,
    metavar="DURATION",
    help="Only lines written in the last DURATION (90s, 15m, 2h, 1d, 1h30m).",
)
@click.option(
    "--follow",
    is_flag=True,
    help="Keep printing new lines: until the endpoint is running, failed, paused or gone and "
    "nothing new came for 30 s, or --follow-timeout.",
)
@click.option(
    "--follow-timeout",
    type=Seconds(),
    default=DEFAULT_FOLLOW_TIMEOUT,
    show_default=True,
    help="Seconds --follow goes on at most.",
)
@click.pass_obj
def logs(
    context: Context,
    /,
    name: str,
    spec_dir: Path,
    api_url: str | None,
    tail: int | None,
    since: int | None,
    follow: bool,
    follow_timeout: float,
) -> None:
    """Print the replica logs of endpoint NAME (or NAMESPACE/NAME), scrubbed of secrets."""
    stack = load(spec_dir, check_policies=False)
    session = connect(context, stack, api_url)
    namespace, endpoint = resolve(stack, session.identity, name)
    scrubber = log_scrubber(stack, session.identity, context.environ, session.scrubber())
    reader = LogReader(
        session.api,
        namespace,
        endpoint,
        scrubber,
        emit=click.echo,
        now=context.now,
        clock=context.clock,
        sleep=context.sleep,
    )
    start = None if since is None else max(0, int(context.now().timestamp()) - since)
    try:
        if follow:
            following = Following(interval=context.wait_interval, timeout=follow_timeout)
            click.echo(reader.follow(tail=tail, since=start, following=following), err=True)
        elif not reader.show(tail=tail, since=start):
            click.echo(f"{reader.address}: no log lines", err=True)
    except ApiError as error:
        raise ProvisionerError.because(f"cannot read the logs of {name!r}: {error}") from error
