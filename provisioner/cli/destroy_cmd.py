"""`provisioner destroy`: delete every endpoint the stack manages; protected ones are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provisioner.apply.workflow import plan_stack
from provisioner.cli.context import Context
from provisioner.cli.run import execute, run_options
from provisioner.cli.session import connect, load, show_diagnostics
from provisioner.render.text import render_plan
from provisioner.spec.diagnostics import ProvisionerError


@click.command()
@run_options
@click.pass_obj
def destroy(context: Context, /, spec_dir: Path, api_url: str | None, **run: Any) -> None:
    """Delete every endpoint this stack manages. Protected endpoints are refused."""
    session = connect(context, load(spec_dir), api_url)
    with session.locked("destroy", timeout=run["lock_timeout"]):
        plan, _ = plan_stack(
            session.stack, session.api, session.identity, destroy=True, store=session.store
        )
        show_diagnostics(plan.diagnostics)
        click.echo(render_plan(plan), nl=False)
        execute(session, plan, verb="destroy", **run)
    if plan.refused:
        names = ", ".join(c.address for c in plan.refused)
        one = "endpoint" if len(plan.refused) == 1 else ""
        raise ProvisionerError.because(
            f"refused to destroy protected {one or 'endpoints'}: {names}; apply 'protect: false' "
            f"to {'it' if one else 'them'} first"
        )
