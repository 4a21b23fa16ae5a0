"""`provisioner apply [PLAN]`: plan (or load the saved PLAN), show it, confirm, apply, report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provisioner.apply.workflow import load_saved_plan, plan_stack
from provisioner.cli.context import Context
from provisioner.cli.options import allow_mass_delete_option, resend_secrets_option
from provisioner.cli.run import execute, run_options
from provisioner.cli.session import Session, connect, load, show_diagnostics
from provisioner.plan.model import Plan
from provisioner.plan.safety import FLAG
from provisioner.render.text import render_plan
from provisioner.spec.diagnostics import ProvisionerError
from provisioner.spec.stack import load_stack


def _saved(
    context: Context, spec_dir: Path, api_url: str | None, path: Path
) -> tuple[Session, Plan]:
    # The saved plan, not the specs, says what to do: spec problems are not this run's business.
    stack, _ = load_stack(spec_dir)
    session = connect(context, stack, api_url)
    return session, load_saved_plan(path, stack, session.api, session.identity)


def _fresh(
    context: Context, spec_dir: Path, api_url: str | None, **planning: bool
) -> tuple[Session, Plan]:
    session = connect(context, load(spec_dir), api_url)
    plan, _ = plan_stack(session.stack, session.api, session.identity, **planning)
    show_diagnostics(plan.diagnostics)
    if plan.errors:
        raise SystemExit(1)
    return session, plan


@click.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@run_options
@resend_secrets_option
@allow_mass_delete_option
@click.pass_obj
def apply(
    context: Context,
    /,
    plan_file: Path | None,
    spec_dir: Path,
    api_url: str | None,
    resend_secrets: bool,
    allow_mass_delete: bool,
    **run: Any,
) -> None:
    """Make the live endpoints match the specs under --dir (or exactly the saved PLAN_FILE)."""
    for given, option in ((resend_secrets, "--resend-secrets"), (allow_mass_delete, FLAG)):
        if plan_file is not None and given:
            raise ProvisionerError.because(
                f"{option} is a planning option: pass it to `plan --out` instead"
            )
    if plan_file is not None:
        session, plan = _saved(context, spec_dir, api_url, plan_file)
    else:
        session, plan = _fresh(
            context,
            spec_dir,
            api_url,
            resend_secrets=resend_secrets,
            allow_mass_delete=allow_mass_delete,
        )
    click.echo(render_plan(plan), nl=False)
    execute(session, plan, verb="apply", **run)
