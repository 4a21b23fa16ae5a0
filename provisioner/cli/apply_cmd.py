"""`provisioner apply [PLAN]`: plan again, hold it to the saved PLAN (or plan), confirm, apply."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from provisioner.apply.workflow import load_saved_plan, record_secret_variables, saved_spec_dir
from provisioner.cli.colour import echo_plan
from provisioner.cli.context import Context
from provisioner.cli.options import (
    allow_mass_delete_option,
    allow_over_quota_option,
    examples,
    resend_not_kept_option,
    resend_secrets_option,
    target_option,
)
from provisioner.cli.run import execute, run_options, smoke_option
from provisioner.cli.session import Session, connect, load
from provisioner.cli.stacks import changed_since_option, refuse_with_dir, root_option, run_stacks
from provisioner.plan.document import DIGEST_FORMAT, changes_digest
from provisioner.plan.model import Plan, ReasonCode
from provisioner.render.text import render_plan
from provisioner.spec.diagnostics import Mark, ProvisionerError
from provisioner.spec.stack import Settings, Stack


def _saved(session: Session, path: Path) -> Plan:
    again = f"{session.command('plan')} --out {shlex.quote(str(path))}"
    return load_saved_plan(
        path, session.stack, session.api, session.identity, session.store, plan_command=again
    )


def _as_saved(
    session: Session,
    saved: Plan,
    path: Path,
    *,
    allow_mass_delete: bool,
    allow_over_quota: bool = False,
) -> Plan:
    """The plan made again now, from the specs here, if it does exactly what the saved one
    says (the same changes digest); it, not the file, is what gets applied. A saved plan is
    checked (unkeyed) but not signed, so whoever could write it could have written anything:
    an image, a token sent to a new public endpoint, deletions. Planning again from the specs
    of this checkout, with this run's policies and quota, leaves the file nothing to decide
    but whether to go on."""
    if saved.destroy:
        raise ProvisionerError.because(
            "this saved plan destroys the stack: run `provisioner destroy`, which shows and "
            "asks, instead",
            Mark(path),
        )
    codes = {r.code for c in saved.changes for r in c.reasons}
    plan = session.checked_plan(
        resend_secrets=ReasonCode.RESEND_SECRETS in codes,
        resend_not_kept=ReasonCode.RESEND_NOT_KEPT in codes,
        allow_mass_delete=allow_mass_delete,
        allow_over_quota=allow_over_quota,
        targets=saved.targets,
    )
    reviewed, now = changes_digest(saved), changes_digest(plan)
    if now != reviewed:
        echo_plan(session.context, render_plan(plan))
        raise ProvisionerError.because(
            f"planned again now, the changes are not the saved plan's: its changes digest is "
            f"{reviewed}, now {now}. Nothing was changed",
            Mark(path),
            note="a spec changed since the plan was saved, or a revision moved upstream, or "
            "the schedules decide otherwise now: the plan above is what would be applied. Make "
            f"a new plan with `{session.command('plan')} --out {shlex.quote(str(path))}` and "
            "review it",
        )
    return plan


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


# PROVISIONER_SUSPEND values that do not suspend (a variable set empty, or to say "off").
_NOT_SUSPENDED = frozenset({"", "0", "false", "no", "off"})


def suspension(settings: Settings, environ: Mapping[str, str]) -> str | None:
    """Why unattended applies of this stack are suspended, or None: the `suspend:` of its
    settings (true, or the reason), or PROVISIONER_SUSPEND (a switch without a commit)."""
    variable = environ.get("PROVISIONER_SUSPEND", "").strip()
    if variable.lower() not in _NOT_SUSPENDED:
        return f"PROVISIONER_SUSPEND is set ({variable!r})"
    if settings.suspend is not False:
        where = f"{settings.suspend_mark}: " if settings.suspend_mark else ""
        reason = f" ({settings.suspend})" if isinstance(settings.suspend, str) else ""
        return f"{where}suspend is set{reason}"
    return None


def _suspended(context: Context, stack: Stack, *, scheduled: bool) -> bool:
    why = suspension(stack.settings, context.environ)
    if why is None:
        return False
    run = "scheduled" if scheduled else "unattended"
    click.echo(
        f"Stack {stack.settings.stack!r} is suspended: {why}. This {run} apply changes nothing "
        "and exits 0. Unset it (remove `suspend:` from _settings.yaml, or the variable) to "
        "resume unattended applies; `provisioner apply` run by a person still applies.",
        err=True,
    )
    return True


@click.command(
    epilog=examples(
        "provisioner apply --dir endpoints",
        "provisioner apply --auto-approve --lock-timeout 600   # CI",
        "provisioner apply plan.json   # exactly the saved, reviewed plan",
        "provisioner apply --target 'chat-*'",
        "provisioner apply --no-smoke   # skip the specs' smoke tests",
        "provisioner apply --auto-approve --reviewed-digest sha256:...   # only what was reviewed",
        "provisioner apply --auto-approve --scheduled   # the schedule workflow",
    )
)
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@run_options
@root_option
@changed_since_option
@smoke_option
@resend_secrets_option
@resend_not_kept_option
@allow_mass_delete_option
@allow_over_quota_option
@target_option
@click.option(
    "--reviewed-digest",
    envvar="PROVISIONER_REVIEWED_DIGEST",
    default=None,
    metavar="sha256:HEX",
    help="Apply only if the plan's changes digest is this one (the digest the reviewed plan "
    "showed); otherwise change nothing and exit 1 (env: PROVISIONER_REVIEWED_DIGEST).",
)
@click.option(
    "--unattended",
    is_flag=True,
    help="Nobody watches this run (CI on merge): when the stack is suspended (`suspend:` in "
    "_settings.yaml, or PROVISIONER_SUSPEND), change nothing and exit 0.",
)
@click.option(
    "--scheduled",
    is_flag=True,
    help="A scheduled run (implies --unattended): apply only what the specs' schedules decide "
    "now (pauses, resumes, replica bounds); any other difference is shown as left alone and "
    "not applied, unless `self_heal: true` is in _settings.yaml.",
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
    resend_not_kept: bool,
    allow_mass_delete: bool,
    allow_over_quota: bool,
    targets: tuple[str, ...],
    reviewed_digest: str | None,
    unattended: bool,
    scheduled: bool,
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
    # --allow-mass-delete and --allow-over-quota are the applier's to give again: a saved
    # plan's file is not trusted.
    planning = (
        (resend_secrets, "--resend-secrets"),
        (resend_not_kept, "--resend-not-kept"),
        (bool(targets), "--target"),
    )
    if plan_file is not None and scheduled:
        raise ProvisionerError.because(
            "--scheduled plans what the schedules decide now: it cannot apply a saved plan"
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
    # The specs say what to do, a saved plan only whether to go on (`_as_saved`).
    stack = load(spec_dir)
    if (unattended or scheduled) and _suspended(context, stack, scheduled=scheduled):
        return
    session = connect(context, stack, api_url)
    # Planned (or checked for staleness) and applied under one lock: no apply in between.
    with session.locked("apply", timeout=run["lock_timeout"]):
        if plan_file is not None:
            saved = _saved(session, plan_file)
            plan = _as_saved(
                session,
                saved,
                plan_file,
                allow_mass_delete=allow_mass_delete,
                allow_over_quota=allow_over_quota,
            )
        else:
            plan = session.checked_plan(
                resend_secrets=resend_secrets,
                resend_not_kept=resend_not_kept,
                allow_mass_delete=allow_mass_delete,
                allow_over_quota=allow_over_quota,
                targets=targets,
                scheduled_only=scheduled and not stack.settings.self_heal,
                unattended=unattended or scheduled,
            )
        if not plan.has_changes:
            # Every apply-side run tells the pull requests' plans which secrets it has (names);
            # one with changes does it in the write that records them (`Session.recording`).
            specs = session.stack.resolved_specs(session.identity.user)
            record_secret_variables(session.store, specs, context.environ)
        echo_plan(context, render_plan(plan))
        if reviewed_digest is not None:
            _as_reviewed(plan, reviewed_digest)
        # As Terraform's `apply PLANFILE`: saving the plan was its review, so it is approved.
        run["auto_approve"] = run["auto_approve"] or plan_file is not None
        execute(session, plan, verb="apply", **run)
