"""`provisioner validate`: every spec mistake, in one run, without touching the API."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.cli.options import dir_option, examples
from provisioner.cli.specs import load_specs
from provisioner.render.diagnostics import render_diagnostics


@click.command(
    epilog=examples(
        "provisioner validate --dir endpoints",
        "provisioner validate --dir endpoints endpoints/prod/llm.yaml",
    )
)
@dir_option
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
def validate(spec_dir: Path, files: tuple[Path, ...]) -> None:
    """Check every spec under --dir: schema, cross-field rules, duplicates, policies. Exit 1 on
    errors.

    With FILES (what the pre-commit hook passes: the files a commit changes), only those specs
    are checked, each with the _defaults.yaml files above it and _settings.yaml; a changed
    _defaults.yaml checks every spec below it, a changed _settings.yaml the whole stack. Files
    outside --dir are not the stack's and are skipped. A duplicate name is found only among the
    specs checked: the full `validate` (and CI's plan) finds the others."""
    stack, diagnostics = load_specs(spec_dir, only=files or None)
    click.echo(render_diagnostics(diagnostics), err=True, nl=False)
    if diagnostics.has_errors:
        raise SystemExit(1)
    count = len(stack.specs)
    among = f", of the {len(files)} file{'s' if len(files) != 1 else ''} given" if files else ""
    click.echo(
        f"{spec_dir}: {count} endpoint spec{'s' if count != 1 else ''} valid "
        f"(stack {stack.settings.stack!r}{among})"
    )
