"""`provisioner validate`: every spec mistake, in one run, without touching the API."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.cli.options import dir_option, examples
from provisioner.render.diagnostics import render_diagnostics
from provisioner.spec.stack import load_stack


@click.command(epilog=examples("provisioner validate --dir endpoints"))
@dir_option
def validate(spec_dir: Path) -> None:
    """Check every spec under --dir: schema, cross-field rules, duplicates, policies. Exit 1 on
    errors."""
    stack, diagnostics = load_stack(spec_dir)
    click.echo(render_diagnostics(diagnostics), err=True, nl=False)
    if diagnostics.has_errors:
        raise SystemExit(1)
    count = len(stack.specs)
    click.echo(
        f"{spec_dir}: {count} endpoint spec{'s' if count != 1 else ''} valid "
        f"(stack {stack.settings.stack!r})"
    )
