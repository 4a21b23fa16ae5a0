"""`provisioner status`: the stack's endpoints as they are now, and whether they match the specs."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option, examples, format_option
from provisioner.cli.session import connect, load_partial, show_diagnostics
from provisioner.render.status import render_status, render_status_json


@click.command(
    epilog=examples("provisioner status --dir endpoints", "provisioner status --format json")
)
@dir_option
@api_url_option
@format_option
@click.pass_obj
def status(context: Context, spec_dir: Path, api_url: str | None, output: str) -> None:
    """Table of the stack's endpoints: state, replicas, URL, and drift from the specs."""
    # A broken spec is reported, not fatal: the live endpoints are still worth seeing.
    stack, broken = load_partial(spec_dir, warn=True)
    session = connect(context, stack, api_url)
    plan, fleet = session.planned(broken=broken)
    show_diagnostics(plan.diagnostics)
    if output == "json":
        click.echo(render_status_json(plan, fleet), nl=False)
    else:
        click.echo(render_status(plan, fleet, plan_command=session.command("plan")), nl=False)
