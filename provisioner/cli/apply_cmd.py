"""`provisioner apply [PLAN]`: plan (or load the saved PLAN), show it, confirm, apply, report."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from provisioner.apply.workflow import load_saved_plan, saved_spec_dir
from provisioner.cli.colour import echo_plan
from provisioner.cli.context import Context
from provisioner.cli.options import (
    allow_mass_delete_option,
    examples,
    resend_secrets_option,
    target_option,
)
from provisioner.cli.run import execute, run_options, smoke_option
from provisioner.cli.session import Session, connect, load
from provisioner.cli.stacks import changed_since_option, refuse_with_dir, root_option, run_stacks
from provisioner.plan.document import DIGEST_FORMAT, changes_digest
from provisioner.plan.model import Plan
from provisioner.plan.safety import FLAG
from provisioner.render.text import render_plan
from provisioner.spec.diagnostics import ProvisionerError
from provisioner.spec.stack import load_stack


def _saved(session: Session, path: Path) -> Plan:
    again = f"{session.command('plan')} --out {shlex.quote(str(path))}"
    return load_saved_plan(
        path, session.stack, session.api, session.identity, session.store, plan_command=again
    )


def _as_reviewed(plan: Plan, reviewed: str) -> None:
    """Refuse, before anything is sent, a plan other than the one a review saw."""
    now = changes_digest(plan)
    if now == reviewed:
        return
    raise ProvisionerError.because(
        f"this plan is not the one that was reviewed: its changes digest is {now}, the review "
        f"saw {reviewed}. Nothing was changed",
        note="since the review a spec changed (another merge), an endpoint was changed outside "
        "provisioner, or a revision moved upstream: the plan above is what would be applied "
        "now. To apply it, get it reviewed (push to the pull request or re-run its plan, then "
        "merge), or read it and apply by hand",
    )


@click.command(
    epilog=examples(
        "provisioner apply --dir endpoints",
        "provisioner apply --auto-approve --lock-timeout 600   # CI",
        "provisioner apply plan.json   # exactly the saved, reviewed plan",
        "provisioner apply --target 'chat-*'",
        "provisioner apply --no-smoke   # skip the specs' smoke tests",
        "provisioner apply --auto-approve --reviewed-digest sha256:...   # only what was reviewed",
    )
)
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@run_options
@root_option
@changed_since_option
@smoke_option
@resend_secrets_option
@allow_mass_delete_option
@target_option
@click.option(
    "--reviewed-digest",
    envvar="PROVISIONER_REVIEWED_DIGEST",
    default=None,
    metavar="sha256:HEX",
    help="Apply only if the plan's changes digest is this one (the digest the reviewed plan "
    "showed); otherwise change nothing and exit 1 (env: PROVISIONER_REVIEWED_DIGEST).",
)
@click.pass_obj
def apply(
    context: Context,
    /,
    plan_file: Path | None,
    spec_dir: Path,
    api_url: str | None,
    root: Path | None,
    changed_since: str | None,
    resend_secrets: bool,
    allow_mass_delete: bool,
    targets: tuple[str, ...],
    reviewed_digest: str | None,
    **run: Any,
) -> None:
    """Make the live endpoints match the specs under --dir (or exactly the saved PLAN_FILE)."""
    if reviewed_digest is not None and not DIGEST_FORMAT.fullmatch(reviewed_digest):
        raise click.BadParameter(
            "a changes digest is 'sha256:' and 64 hexadecimal digits, as a plan prints it",
            param_hint="--reviewed-digest",
        )
    if root is not None or changed_since is not None:
        ctx = click.get_current_context()
        refuse_with_dir(
            ctx,
            root,
            (plan_file is not None, "PLAN_FILE"),
            (reviewed_digest is not None, "--reviewed-digest (one stack's)"),
        )
        if root is None:
            raise click.UsageError("--changed-since goes with --root", ctx)
        run_stacks(ctx, root, verb="apply", changed_since=changed_since)
    planning = (
        (resend_secrets, "--resend-secrets"),
        (allow_mass_delete, FLAG),
        (bool(targets), "--target"),
    )
    for given, option in planning:
        if plan_file is not None and given:
            raise ProvisionerError.because(
                f"{option} is a planning option: pass it to `plan --out` instead"
            )
    source = click.get_current_context().get_parameter_source("spec_dir")
    if plan_file is not None and source is click.core.ParameterSource.DEFAULT:
        # No --dir (nor PROVISIONER_DIR): the stack the plan was made for.
        spec_dir = saved_spec_dir(plan_file) or spec_dir
    # A saved plan, not the specs, says what to do: spec problems are not this run's business.
    stack = load_stack(spec_dir)[0] if plan_file is not None else load(spec_dir)
    session = connect(context, stack, api_url)
    # Planned (or checked for staleness) and applied under one lock: no apply in between.
    with session.locked("apply", timeout=run["lock_timeout"]):
        if plan_file is not None:
            plan = _saved(session, plan_file)
        else:
            plan = session.checked_plan(
                resend_secrets=resend_secrets,
                allow_mass_delete=allow_mass_delete,
                targets=targets,
            )
        echo_plan(context, render_plan(plan))
        if reviewed_digest is not None:
            _as_reviewed(plan, reviewed_digest)
        # As Terraform's `apply PLANFILE`: saving the plan was its review, so it is approved.
        run["auto_approve"] = run["auto_approve"] or plan_file is not None
        execute(session, plan, verb="apply", **run)
