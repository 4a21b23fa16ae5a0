"""`provisioner output [NAME...]`: each endpoint's URL under the variable name its spec asks for
(`outputs.url_env`, default NAME_URL), for the applications that call it."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.apply.outputs import EndpointOutput, stack_outputs
from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option, examples
from provisioner.cli.session import connect, load
from provisioner.render.outputs import (
    note,
    render_dotenv,
    render_env,
    render_github,
    render_outputs_json,
)
from provisioner.spec.diagnostics import ProvisionerError

GITHUB_OUTPUT = "GITHUB_OUTPUT"


def _append(path: str, text: str) -> None:
    try:
        with Path(path).open("a", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise ProvisionerError.because(
            f"cannot append the outputs to ${GITHUB_OUTPUT} ({path}): {error.strerror or error}"
        ) from error


@click.command(
    "output",
    epilog=examples(
        'eval "$(provisioner output chat-bot)"   # export CHAT_BOT_URL=...',
        "provisioner output --format dotenv > .env",
        "provisioner output chat-bot --format json | jq -r .values.CHAT_BOT_URL",
        "provisioner output chat-bot --format github   # in a GitHub Actions step",
    ),
)
@click.argument("names", nargs=-1)
@dir_option
@api_url_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["env", "dotenv", "json", "github"]),
    default="env",
    show_default=True,
    help="env: `export VAR='URL'` lines for a shell; dotenv: `VAR=URL` lines for a .env file; "
    "json: one document; github: `VAR=URL` lines appended to the file $GITHUB_OUTPUT names.",
)
@click.pass_obj
def output(
    context: Context, /, names: tuple[str, ...], spec_dir: Path, api_url: str | None, output: str
) -> None:
    """Print the URL of each endpoint NAME (default: all) under the variable its spec names.

    NAME is a spec's name or NAMESPACE/NAME, shell-style globs allowed, as --target takes it.
    The variable is `outputs.url_env` in the spec, else the name upper-cased with '-' as '_'
    and `_URL` (chat-bot: CHAT_BOT_URL). An endpoint without a usable URL (not created,
    paused, private, not running yet) gets no value but a line saying why: a `#` comment in
    env and dotenv, a note on stderr for github, `url: null` and a reason in json. Exit 1 when
    an endpoint NAMEd here has no URL; 0 when listing the whole stack. Nothing is changed.
    """
    github_file = context.environ.get(GITHUB_OUTPUT, "") if output == "github" else None
    if github_file == "":
        raise ProvisionerError.because(
            f"--format github appends to the file ${GITHUB_OUTPUT} names, and {GITHUB_OUTPUT} "
            "is not set (GitHub Actions sets it in every step); use --format dotenv elsewhere"
        )
    session = connect(context, load(spec_dir, check_policies=False), api_url)
    specs = session.stack.resolved_specs(session.identity.user)
    outputs = stack_outputs(specs, session.api, names, scrubber=session.scrubber())
    apply_command = session.command("apply")
    if output == "json":
        text = render_outputs_json(
            outputs, stack=session.stack.settings.stack, apply_command=apply_command
        )
        click.echo(text, nl=False)
    elif output == "dotenv":
        click.echo(render_dotenv(outputs, apply_command=apply_command), nl=False)
    elif output == "env":
        click.echo(render_env(outputs, apply_command=apply_command), nl=False)
    missing = [o for o in outputs if o.url is None]
    if github_file is not None:
        _append(github_file, render_github(outputs))
        for absent in missing:
            click.echo(f"note: {note(absent, apply_command=apply_command)}", err=True)
        given = [o.variable for o in outputs if o.url is not None]
        click.echo(
            f"{len(given)} of {len(outputs)} outputs appended to ${GITHUB_OUTPUT}"
            + (f": {', '.join(given)}" if given else ""),
            err=True,
        )
    if names and missing:
        _fail(missing, apply_command=apply_command, said=output == "github")


def _fail(missing: list[EndpointOutput], *, apply_command: str, said: bool) -> None:
    if not said:
        for absent in missing:
            click.echo(f"error: {note(absent, apply_command=apply_command)}", err=True)
    raise SystemExit(1)
