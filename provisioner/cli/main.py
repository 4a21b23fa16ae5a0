"""The `provisioner` command group, exit-code policy and the last-resort error handler.

Each command lives in its own module, imported only when that command runs, so `validate` never
pays for importing `huggingface_hub`.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import click
from click.shell_completion import CompletionItem

from provisioner import DISTRIBUTION, __version__
from provisioner.cli.context import Context
from provisioner.render.diagnostics import render_error
from provisioner.spec.diagnostics import ProvisionerError

# name -> ("module:attribute", the one-line help `provisioner --help` shows), in the order
# `--help` lists them. The line is kept here so that `--help` imports no command (and so not
# huggingface_hub); a test holds it equal to each command's own first sentence.
COMMAND_TABLE = {
    "init": (
        "provisioner.cli.init_cmd:init",
        "Scaffold a specs repository in DIR: settings, a starter spec, schemas, workflows, hooks.",
    ),
    "validate": (
        "provisioner.cli.validate:validate",
        "Check every spec under --dir: schema, cross-field rules, duplicates, policies.",
    ),
    "show": (
        "provisioner.cli.show:show",
        "Print the merged spec of NAMES (default: all), with _defaults.yaml and defaults applied.",
    ),
    "schema": (
        "provisioner.cli.schema_cmd:schema",
        "Print the JSON Schema (Draft 2020-12) that specs are validated against.",
    ),
    "plan": (
        "provisioner.cli.plan_cmd:plan",
        "Compare the specs under --dir with the live endpoints and print the changes.",
    ),
    "stacks": (
        "provisioner.cli.stacks:stacks",
        "List the stacks under --root (folders holding _settings.yaml): name, folder, changed.",
    ),
    "show-plan": (
        "provisioner.cli.show_plan_cmd:show_plan",
        "Print the plan saved in FILE (by `plan --out`) as text, markdown or json; no API call.",
    ),
    "apply": (
        "provisioner.cli.apply_cmd:apply",
        "Make the live endpoints match the specs under --dir (or exactly the saved PLAN_FILE).",
    ),
    "smoke": (
        "provisioner.cli.smoke_cmd:smoke",
        "Run the smoke tests of NAMES (default: every spec with `smoke:`) against their endpoints.",
    ),
    "status": (
        "provisioner.cli.status:status",
        "Table of the stack's endpoints: state, replicas, URL, and drift from the specs.",
    ),
    "logs": (
        "provisioner.cli.logs_cmd:logs",
        "Print the replica logs of endpoint NAME (or NAMESPACE/NAME), scrubbed of secrets.",
    ),
    "output": (
        "provisioner.cli.output_cmd:output",
        "Print the URL of each endpoint NAME (default: all) under the variable its spec names.",
    ),
    "invoke": (
        "provisioner.cli.invoke_cmd:invoke",
        "Send one request to endpoint NAME as an application would, and print its answer.",
    ),
    "import": (
        "provisioner.cli.import_cmd:import_",
        "Write a minimal spec into --dir for each existing endpoint NAME (or --all).",
    ),
    "hardware": (
        "provisioner.cli.hardware_cmd:hardware",
        "What a namespace can deploy: vendor, region, instance, price per hour, quota.",
    ),
    "destroy": ("provisioner.cli.destroy_cmd:destroy", "Delete every endpoint this stack manages."),
    "release": (
        "provisioner.cli.release_cmd:release_",
        "Stop managing the endpoints NAME (or NAMESPACE/NAME) without deleting them.",
    ),
    "state": (
        "provisioner.cli.state_cmd:state",
        "The stack's state: secret fingerprints, what was last applied, the lock.",
    ),
    "history": (
        "provisioner.cli.state_cmd:history",
        "Who applied what and when: the newest applies and destroys of the stack first.",
    ),
    "emulator": (
        "provisioner.cli.emulator_cmd:emulator",
        "Run a local emulator of the Hugging Face Inference Endpoints API.",
    ),
    "completion": (
        "provisioner.cli.completion_cmd:completion",
        "Print the tab-completion script of SHELL (bash, zsh or fish) for provisioner.",
    ),
    "hf": (
        "provisioner.cli.hf_cmd:hf",
        "Run `hf ARGS` (huggingface_hub's CLI) against --api-url, e.g. the emulator: "
        "`provisioner hf --api-url http://127.0.0.1:8790 endpoints ls --namespace acme`.",
    ),
}
COMMANDS = {name: target for name, (target, _) in COMMAND_TABLE.items()}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, from `COMMAND_TABLE`: no command module is imported for it."""
        limit = formatter.width - 6 - max(len(name) for name in COMMAND_TABLE)
        # A stand-in command of the same help shortens it exactly as click shortens the real one.
        rows = [
            (name, click.Command(name, help=summary).get_short_help_str(limit))
            for name, (_, summary) in COMMAND_TABLE.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Tab completion of a command name (`provisioner pl<TAB>`), from `COMMAND_TABLE`: click's
        own would import every command module to read its help. Options still complete as
        click completes them (the group's own here; a command's once it is named, loaded)."""
        names = [
            CompletionItem(name, help=summary)
            for name, (_, summary) in COMMAND_TABLE.items()
            if name.startswith(incomplete)
        ]
        options = click.Command.shell_complete(self, ctx, incomplete)
        return names + options

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        # While completing (resilient parsing), an unknown word completes to nothing, as in
        # click: an error here would be printed into the user's command line at each <TAB>.
        if name in COMMANDS or name.startswith("-") or ctx.resilient_parsing:
            return super().resolve_command(ctx, args)
        import difflib  # here: `validate` in a pre-commit hook starts faster without it

        close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.6)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise click.UsageError(f"No such command {name!r}.{hint}", ctx)


# A Terraform habit: `-auto-approve`, `-target=x`, `-out=p.json` (one dash, a word).
_SINGLE_DASH = re.compile(r"-(?P<name>[a-z][a-z0-9-]+)(?P<value>=.*)?", re.IGNORECASE | re.DOTALL)


def _single_dash(error: click.NoSuchOption, argv: list[str]) -> click.UsageError | None:
    """click reads `-auto-approve` as the short options `-a -u -t ...` and reports `-a`; say
    what was meant instead: the same option with two dashes."""
    for token in argv:
        found = _SINGLE_DASH.fullmatch(token)
        if found is None or token[:2] != error.option_name[:2]:
            continue
        name, value = found["name"], found["value"] or ""
        command = error.ctx.command if error.ctx is not None else None
        known = {
            opt
            for param in (command.params if command is not None else [])
            for opt in (*param.opts, *getattr(param, "secondary_opts", ()))
        }
        if f"--{name}" in known:
            hint = f"provisioner options take two dashes: --{name}{value}"
        else:
            verb = error.ctx.info_name if error.ctx is not None else "this command"
            hint = (
                f"provisioner options take two dashes, and {verb} has no --{name} option either; "
                f"see `provisioner {verb} --help`"
            )
        return click.UsageError(f"No such option: {token} ({hint})", ctx=error.ctx)
    return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__,
    prog_name="provisioner",
    # The distribution's name too: `pip install provisioner` is an unrelated package.
    message=f"%(prog)s %(version)s (the {DISTRIBUTION} package)",
)
def cli() -> None:
    """Declare Hugging Face Inference Endpoints in YAML; plan and apply changes."""


def debug_log_path(environ: Mapping[str, str]) -> Path:
    """Where the debug log goes: `PROVISIONER_DEBUG_LOG`, else a private file of this user's
    (`$XDG_STATE_HOME/provisioner/debug.log`, by default under ~/.local/state). Never a fixed
    name in the shared temporary folder, which anyone could read, or plant first."""
    given = environ.get("PROVISIONER_DEBUG_LOG")
    if given:
        return Path(given)
    state = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "provisioner" / "debug.log"


def write_debug_log(path: Path, text: str) -> None:
    """Append `text` to the log at `path`, readable by this user only (file 0600, and a folder
    made for it 0700); a log left readable by an older version is made private too."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as log:
        os.fchmod(log.fileno(), 0o600)
        log.write(text)


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a CI job cancelled, a container stopped), raised where Ctrl-C raises
    KeyboardInterrupt: an apply says what it had sent, and the command exits 128 + 15."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # One account is enough: a second SIGTERM (a supervisor insisting) ends the process at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated


def _interrupted(exc: BaseException) -> NoReturn:
    if isinstance(exc, Terminated):
        click.echo("Terminated.", err=True)
        sys.exit(128 + signal.SIGTERM)
    click.echo("Interrupted.", err=True)
    sys.exit(130)


GC_THRESHOLD = 50_000


def main(argv: list[str] | None = None, context: Context | None = None) -> None:
    """Run the CLI. Exit codes: 0 success, 1 error, 2 only for `plan --detailed-exitcode` (and
    `--drift`), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

    Usage errors exit 1 (not click's 2) so that a typo can never read as "changes present".
    """
    # A run allocates hundreds of thousands of small objects that live until it ends (YAML nodes,
    # marks, specs, the plan); with CPython's default (a collection every 700 allocations), a
    # 1,000-spec stack spent 25-40 % of its loading in the cycle collector, which found nothing.
    gc.set_threshold(GC_THRESHOLD, 20, 20)
    # Signal handlers can only be set from the main thread (tests may run the CLI elsewhere).
    trap = threading.current_thread() is threading.main_thread()
    previous: Any = signal.signal(signal.SIGTERM, _on_sigterm) if trap else None
    try:
        _main(argv, context)
    finally:
        if trap and previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None, given: Context | None) -> None:
    # One context for the run, so that the secrets a command meets scrub the errors it prints.
    context = given or Context()
    try:
        code = cli.main(args=argv, prog_name="provisioner", standalone_mode=False, obj=context)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort: it still exits 130, as an interrupted command does.
        if isinstance(exc.__cause__, KeyboardInterrupt):
            _interrupted(exc.__cause__)
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except ProvisionerError as exc:
        # The one choke point of what stopped a run: a service's or S3's words may be in it.
        scrubber = context.scrubber()
        click.echo(scrubber.outside(render_error(exc)), err=True, nl=False)
        sys.exit(1)
    except click.NoSuchOption as exc:
        (_single_dash(exc, sys.argv[1:] if argv is None else argv) or exc).show()
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(1)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
    except Exception as exc:
        path = debug_log_path(context.environ)
        try:
            # Scrubbed by value: a secret in a local variable's repr is blanked, whatever its name.
            import traceback  # here, as difflib: only an internal error needs it

            write_debug_log(path, context.scrubber().outside(traceback.format_exc()))
            where = f"the details are in {path}"
        except OSError:
            where = "the details could not be written to a log"
        click.echo(
            f"provisioner: internal error ({type(exc).__name__}): this is a bug in provisioner, "
            f"not a mistake in your input; {where}",
            err=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
