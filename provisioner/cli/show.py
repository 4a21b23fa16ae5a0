"""`provisioner show`: the fully merged specs, as the reconciler will use them."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.cli.options import dir_option, examples
from provisioner.cli.specs import load_specs
from provisioner.render.diagnostics import render_diagnostics
from provisioner.spec.emit import dump_documents, effective


@click.command(epilog=examples("provisioner show llm --dir endpoints"))
@click.argument("names", nargs=-1)
@dir_option
def show(names: tuple[str, ...], spec_dir: Path) -> None:
    """Print the merged spec of NAMES (default: all), with _defaults.yaml and defaults applied."""
    stack, diagnostics = load_specs(spec_dir)
    click.echo(render_diagnostics(diagnostics), err=True, nl=False)
    if diagnostics.has_errors:
        raise SystemExit(1)
    specs = sorted(stack.specs, key=lambda s: (s.namespace or "", s.name))
    if names:
        known = {s.name for s in specs}
        missing = [n for n in names if n not in known]
        if missing:
            raise click.ClickException(
                f"no spec named {', '.join(map(repr, missing))} in {spec_dir}"
            )
        specs = [s for s in specs if s.name in names]
    click.echo(dump_documents([effective(s) for s in specs]), nl=False)
