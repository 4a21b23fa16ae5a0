"""`provisioner emulator`: serve the local Inference Endpoints API until SIGINT or SIGTERM.

Prints exactly one line, the base URL, to stdout (flushed, so a script can read it) before serving;
everything else goes to stderr. Bad flags, an unreadable `--config` or `--data` file and a busy port
are usage errors with a one-line message, never a traceback.
"""

from __future__ import annotations

import importlib.resources
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from provisioner.cli.options import examples

if TYPE_CHECKING:
    from provisioner.emulator import Emulator

# The admin routes as `--help` lists them. Written here, not read from
# `provisioner.emulator.admin.ROUTES` (the list the server answers from), so that `--help`
# imports no emulator module; tests/emulator/test_emulator_help.py holds the two equal.
ADMIN_HELP = (
    ("GET|DELETE", "/admin/requests", "the request log, oldest first / clear it"),
    ("GET|POST|DELETE", "/admin/faults", "scripted faults: list / add one / clear"),
    ("GET|POST", "/admin/clock", 'emulated time / advance it: {"advance": seconds}'),
    ("POST", "/admin/reset", "forget endpoints, faults and the request log"),
    ("POST", "/admin/seed", 'load a fleet: {"namespace", "endpoints": [create bodies]}'),
    ("POST", "/admin/models", 'move a model\'s branch, or set {"visibility": "private"}'),
)

_EPILOG = (
    "\b\nAdmin routes (this machine only, no browser; no token; not in the request log):\n"
    + "\n".join(f"  {methods:<16} {route:<16} {effect}" for methods, route, effect in ADMIN_HELP)
    + "\n\n"
    + examples(
        "provisioner emulator",
        "provisioner emulator --port 0 --speed 0 --data emulator.json",
        "provisioner emulator --fault-rate 0.1 --seed 7 --latency-ms 50",
        "provisioner emulator --readme | less",
    )
)


def _readme_text() -> str:
    """The emulator's README, as installed with the package (a wheel carries it)."""
    # From the top package, already imported: naming `provisioner.emulator` would import it.
    readme = importlib.resources.files("provisioner") / "emulator" / "README.md"
    return readme.read_text(encoding="utf-8")


def _print_readme(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    try:
        text = _readme_text()
    except OSError as err:
        raise click.ClickException(f"the emulator's README is not installed: {err}") from err
    click.echo(text, nl=not text.endswith("\n"))
    ctx.exit(0)


@click.command("emulator", epilog=_EPILOG)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8790,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--data",
    "data_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file keeping endpoints and emulated time across restarts (created if missing).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSON file with users, orgs, quotas and durations (see the emulator README).",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Emulated seconds per real second; 0 freezes time.",
)
@click.option(
    "--latency-ms",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Fixed latency added to every request.",
)
@click.option(
    "--fault-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Probability of a random 429/500/503 on /v2 API calls.",
)
@click.option("--seed", type=int, help="Seed for the random faults (deterministic runs).")
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    help="Seconds a connection may send nothing (mid-request or between requests) before "
    "it is closed.",
)
@click.option(
    "--readme",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_print_readme,
    help="Print the emulator's reference (routes, states, faults, config file) and exit.",
)
def emulator(
    *,
    host: str,
    port: int,
    data_file: Path | None,
    config_file: Path | None,
    speed: float,
    latency_ms: int,
    fault_rate: float,
    seed: int | None,
    idle_timeout: float,
) -> None:
    """Run a local emulator of the Hugging Face Inference Endpoints API.

    It prints its URL on stdout, then serves until Ctrl-C. Point provisioner (or `provisioner hf`)
    at it:

    \b
      PROVISIONER_API_URL=http://127.0.0.1:8790 HF_TOKEN=hf_demo provisioner plan

    By default the token hf_demo (user demo) may manage the namespace acme; --config FILE (JSON)
    sets users, tokens, orgs, quotas and durations. Model repositories: every valid id
    (org/model) is a public model whose main branch is a fixed commit; acme/private-model,
    acme/gated-model and acme/absent-model cannot be read. `POST /admin/models {"repository":
    "org/model", "visibility": "private"}` (or gated, absent, public) declares one, and
    `{"repository": "org/model"}` moves its main branch as a push would. The full reference:
    `provisioner emulator --readme`.
    """
    emu = _build(
        speed=speed,
        latency_ms=latency_ms,
        fault_rate=fault_rate,
        seed=seed,
        idle_timeout=idle_timeout,
        data_file=data_file,
        config_file=config_file,
    )
    _serve(emu, host=host, port=port)


def _build(
    *,
    speed: float,
    latency_ms: int,
    fault_rate: float,
    seed: int | None,
    idle_timeout: float,
    data_file: Path | None,
    config_file: Path | None,
) -> Emulator:
    """The emulator the flags describe; a bad flag or file is a usage error naming it."""
    from provisioner.emulator import ConfigError, Emulator, EmulatorConfig, load_config_file

    try:
        config = EmulatorConfig(
            speed=speed,
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            seed=seed,
            idle_timeout=idle_timeout,
            data_file=data_file,
        )
    except ConfigError as err:
        raise click.UsageError(str(err)) from err
    if config_file is not None:
        try:
            config = load_config_file(config_file, config)
        except ConfigError as err:
            raise click.BadParameter(str(err), param_hint="'--config'") from err
    try:
        return Emulator(config)
    except ConfigError as err:
        raise click.BadParameter(str(err), param_hint="'--data'") from err


def _serve(emu: Emulator, *, host: str, port: int) -> None:
    """Print the URL, serve until SIGINT or SIGTERM, then stop and restore the handlers."""
    from provisioner.emulator import ConfigError

    # Handlers go in before the URL is printed: a script may signal as soon as it has read it.
    stop = threading.Event()
    previous = _install_handlers(stop)
    try:
        try:
            url = emu.start(host=host, port=port)
        except ConfigError as err:
            raise click.BadParameter(str(err), param_hint="'--data'") from err
        except OSError as err:
            raise click.UsageError(
                f"cannot listen on {host}:{port}: {err.strerror or err}"
            ) from err
        logging.basicConfig(
            level=logging.WARNING, format="%(name)s: %(message)s", stream=sys.stderr
        )
        click.echo(url)
        sys.stdout.flush()
        click.echo(f"Inference Endpoints emulator serving at {url} (Ctrl-C to stop)", err=True)
        _warn_if_exposed(host, int(url.rsplit(":", 1)[1]))
        click.echo(
            f"Use it: PROVISIONER_API_URL={url} HF_TOKEN=hf_demo provisioner plan; "
            f"huggingface_hub's CLI: provisioner hf --api-url {url} endpoints ls --namespace acme",
            err=True,
        )
        # A bounded wait keeps the main thread returning to the interpreter, where handlers run.
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _warn_if_exposed(host: str, port: int) -> None:
    """Bound beyond loopback, anyone who can reach the machine can use the demo token: say so,
    with the addresses it really answers at (the printed URL is the loopback one)."""
    from provisioner.emulator.addresses import is_loopback, reachable_addresses

    if is_loopback(host):
        return
    addresses = reachable_addresses(host, port)
    where = ", ".join(addresses) if addresses else f"every address of this machine, port {port}"
    click.echo(
        f"warning: listening on {host}, beyond loopback: other machines can reach the emulator "
        f"at {where}, with its demo tokens (hf_demo); its /admin/ routes answer only requests "
        "from this machine. Use --host 127.0.0.1 unless that is what you want.",
        err=True,
    )


def _install_handlers(stop: threading.Event) -> dict[int, Any]:
    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
