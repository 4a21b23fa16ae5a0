"""`provisioner destroy`: delete every endpoint the stack manages; protected ones are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provisioner.apply.workflow import plan_stack
from provisioner.cli.colour import echo_plan
from provisioner.cli.context import Context
from provisioner.cli.options import examples
from provisioner.cli.run import execute, run_options
from provisioner.cli.session import connect, load_partial, show_diagnostics
from provisioner.render.text import render_plan
from provisioner.spec.diagnostics import ProvisionerError


@click.command(
    epilog=examples(
        "provisioner destroy --dir endpoints/dev",
        "provisioner destroy --dir endpoints/dev --auto-approve",
    )
)
@run_options
@click.pass_obj
def destroy(context: Context, /, spec_dir: Path, api_url: str | None, **run: Any) -> None:
    """Delete every endpoint this stack manages. Protected endpoints are refused."""
    # A broken spec does not stop destroy, but every endpoint it may declare is kept.
    stack, broken = load_partial(spec_dir, warn=False)
    session = connect(context, stack, api_url)
    with session.locked("destroy", timeout=run["lock_timeout"]):
        plan, _ = plan_stack(
            session.stack,
            session.api,
            session.identity,
            destroy=True,
            store=session.store,
            broken=broken,
        )
        show_diagnostics(plan.diagnostics)
        echo_plan(context, render_plan(plan))
        execute(session, plan, verb="destroy", **run)
    unknown = [c.address for c in plan.refused if not c.protected]
    protected = [c.address for c in plan.refused if c.protected]
    problems = []
    if protected:
        them = "it" if len(protected) == 1 else "them"
        noun = "endpoint" if len(protected) == 1 else "endpoints"
        problems.append(
            f"refused to destroy protected {noun}: {', '.join(protected)}; apply "
            f"'protect: false' to {them} first"
        )
    if unknown:
        problems.append(
            f"kept {', '.join(unknown)}: no readable spec names them, and {', '.join(broken)} "
            "cannot be read (it may declare them, protected); fix it and run destroy again"
        )
    if problems:
        raise ProvisionerError.because("; ".join(problems))
