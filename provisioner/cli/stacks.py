"""`plan --root DIR` and `apply --root DIR`: the same command over every stack under DIR (the
folders holding `_settings.yaml`, `spec.roots`), or only those that `--changed-since REF`
touched, one after another, each under its own header.

Each stack runs the single-stack command itself (the click command invoked again with `--dir`),
so it loads, locks, plans and applies exactly as `--dir` would: its own lock, its own state. A
stack whose specs have errors is reported and skipped (apply: never applied) while the others
still run; the exit code combines them: any error 1, else any changes (plan
--detailed-exitcode) 2, else 0. A last line lists each stack with its result.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click

from provisioner.cli.options import examples
from provisioner.cli.session import show_diagnostics
from provisioner.render.diagnostics import render_error
from provisioner.spec.diagnostics import ProvisionerError, display_path
from provisioner.spec.roots import FoundStack, changed, find_stacks

root_option = click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    envvar="PROVISIONER_ROOT",
    help="Run over every stack under this folder (each folder holding _settings.yaml), one "
    "after another, each with its own lock; instead of --dir (env: PROVISIONER_ROOT).",
)

changed_since_option = click.option(
    "--changed-since",
    metavar="REF",
    default=None,
    help="With --root: only the stacks with a file changed in `git diff --name-only "
    "REF...HEAD` (a spec, a _defaults.yaml or the _settings.yaml below the stack's folder).",
)

RESULTS = {0: "no changes", 2: "changes"}


@dataclass(frozen=True)
class Outcome:
    stack: FoundStack
    code: int


def changed_files(root: Path, ref: str) -> list[Path]:
    """The files `git diff --name-only REF...HEAD` names, as absolute paths."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as error:
            raise ProvisionerError.because(
                f"--changed-since needs git: {error.strerror}"
            ) from error
        if done.returncode != 0:
            said = done.stderr.strip().splitlines()
            raise ProvisionerError.because(
                f"--changed-since {ref}: git {' '.join(args)} failed: "
                f"{said[-1] if said else f'exit {done.returncode}'}",
                note="REF must be a commit or branch git knows here (in CI, fetch it: "
                "actions/checkout with fetch-depth: 0)",
            )
        return done.stdout

    top = Path(git("rev-parse", "--show-toplevel").strip())
    names = git("diff", "--name-only", f"{ref}...HEAD").splitlines()
    return [top / name for name in names if name.strip()]


def _selected(root: Path, changed_since: str | None) -> tuple[list[FoundStack], list[FoundStack]]:
    """The stacks to run, and those skipped as unchanged."""
    found, diagnostics = find_stacks(root)
    show_diagnostics(diagnostics)
    if diagnostics.has_errors:
        raise SystemExit(1)
    if changed_since is None:
        return found, []
    chosen = changed(found, changed_files(root, changed_since))
    return chosen, [s for s in found if s not in chosen]


def _header(stack: FoundStack, *, markdown: bool, first: bool) -> None:
    where = display_path(stack.folder)
    if markdown:
        # The document on stdout gets a section; the log (stderr) a line, so that a stack's
        # errors there are found under its name too.
        click.echo(f"\n## Stack `{stack.name}` (`{where}`)\n")
        click.echo(f"==> stack {stack.name} ({where})", err=True)
    else:
        click.echo(f"{'' if first else chr(10)}==> stack {stack.name} ({where})\n")


def _run_one(ctx: click.Context, stack: FoundStack, params: dict[str, Any]) -> int:
    """The single-stack command over this stack's folder; its exit code."""
    try:
        ctx.invoke(ctx.command, **{**params, "spec_dir": stack.folder})
    except SystemExit as stopped:
        code = stopped.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except ProvisionerError as error:
        click.echo(render_error(error), err=True, nl=False)
        return 1
    return 0


def refuse_with_dir(ctx: click.Context, root: Path | None, *also: tuple[bool, str]) -> None:
    """--root picks the stacks: --dir (and the options that need one stack) cannot be given."""
    if root is None:
        return
    source = ctx.get_parameter_source("spec_dir")
    given = source not in (None, click.core.ParameterSource.DEFAULT)
    for present, option in ((given, "--dir (or PROVISIONER_DIR)"), *also):
        if present:
            raise click.UsageError(
                f"--root (or PROVISIONER_ROOT) and {option} cannot be used together", ctx
            )


def run_stacks(
    ctx: click.Context,
    root: Path,
    *,
    verb: str,
    changed_since: str | None,
    markdown: bool = False,
    detailed_exitcode: bool = False,
    out_dir: Path | None = None,
) -> NoReturn:
    """Run this command over the stacks under `root` and exit with the combined code."""
    stacks, skipped = _selected(root, changed_since)
    params = {**ctx.params, "root": None, "changed_since": None}
    if verb == "plan":
        params.update(detailed_exitcode=True, out_dir=None)
    outcomes: list[Outcome] = []
    for stack in stacks:
        _header(stack, markdown=markdown, first=not outcomes)
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            params["out"] = out_dir / f"{stack.name}.json"
        code = _run_one(ctx, stack, params)
        if code == 1 and markdown:
            click.echo(
                "_Errors: nothing is planned for this stack until they are fixed; the "
                "log has them._\n"
            )
        elif code == 1 and verb == "apply":
            click.echo(
                f"stack {stack.name}: not applied (or not completely): see the errors above",
                err=True,
            )
        outcomes.append(Outcome(stack, code))
    if skipped and markdown:
        names = ", ".join(f"`{s.name}`" for s in skipped)
        click.echo(f"_Not planned, no file changed since `{changed_since}`: {names}._\n")
    click.echo(_summary(verb, outcomes, skipped, changed_since), err=True)
    codes = {o.code for o in outcomes}
    if codes - {0, 2}:
        raise SystemExit(1)
    raise SystemExit(2 if detailed_exitcode and 2 in codes else 0)


def _summary(
    verb: str, outcomes: list[Outcome], skipped: list[FoundStack], changed_since: str | None
) -> str:
    """`plan: prod (stacks/prod) changes; staging (stacks/staging) errors; ...`."""

    def result(code: int) -> str:
        if verb == "apply":
            return "applied" if code == 0 else "errors"
        return RESULTS.get(code, "errors")

    parts = [f"{o.stack.name} ({display_path(o.stack.folder)}) {result(o.code)}" for o in outcomes]
    parts += [
        f"{s.name} ({display_path(s.folder)}) skipped: unchanged since {changed_since}"
        for s in skipped
    ]
    return f"{verb} over {len(outcomes) + len(skipped)} stack(s): " + "; ".join(parts)


@click.command(
    epilog=examples(
        "provisioner stacks --root stacks",
        "provisioner stacks --root stacks --changed-since origin/main --json",
    )
)
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(),
    show_default=True,
    envvar="PROVISIONER_ROOT",
    help="The folder to look for stacks in (env: PROVISIONER_ROOT).",
)
@changed_since_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for scripts.")
def stacks(root: Path, changed_since: str | None, as_json: bool) -> None:
    """List the stacks under --root (folders holding _settings.yaml): name, folder, changed."""
    chosen, skipped = _selected(root, changed_since)
    rows: list[dict[str, Any]] = [
        {
            "dir": str(display_path(s.folder)),
            "stack": s.name,
            "settings": str(display_path(s.settings_file)),
            "changed": s in chosen if changed_since is not None else None,
        }
        for s in sorted([*chosen, *skipped], key=lambda s: s.folder)
    ]
    if as_json:
        click.echo(json.dumps({"root": str(display_path(root)), "stacks": rows}, indent=2))
        return
    for row in rows:
        flag = {True: "  changed", False: "  unchanged", None: ""}[row["changed"]]
        click.echo(f"{row['stack']}\t{row['dir']}{flag}")
