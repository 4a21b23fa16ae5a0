"""`provisioner plan`: what apply would change, and why; optionally saved for `apply PLAN`."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from provisioner.cli.context import Context
from provisioner.cli.options import (
    allow_mass_delete_option,
    allow_over_quota_option,
    api_url_option,
    dir_option,
    examples,
    plan_format_option,
    resend_not_kept_option,
    resend_secrets_option,
    target_option,
)
from provisioner.cli.plan_view import chosen_format, echo_plan_as
from provisioner.cli.session import connect, load
from provisioner.cli.stacks import changed_since_option, refuse_with_dir, root_option, run_stacks
from provisioner.plan.document import dumps
from provisioner.plan.drift import drifted, scheduled
from provisioner.spec.diagnostics import Mark, ProvisionerError


@click.command(
    epilog=examples(
        "provisioner plan --dir endpoints",
        "provisioner plan --out plan.json   # then: provisioner apply plan.json",
        "provisioner plan --detailed-exitcode || [ $? -eq 2 ]   # CI: 2 means changes",
        "provisioner plan --drift   # a drift check: 2 means drift, schedules' edges aside",
        "provisioner plan --json | jq '.changes[].reasons'",
        "provisioner plan --format markdown > plan.md   # a pull-request comment",
        "provisioner plan --root stacks --changed-since origin/main   # every changed stack",
    )
)
@dir_option
@root_option
@changed_since_option
@api_url_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Save the plan as JSON; `provisioner apply FILE` applies exactly it.",
)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="With --root: save each stack's plan as DIR/STACK.json.",
)
@resend_secrets_option
@resend_not_kept_option
@allow_mass_delete_option
@allow_over_quota_option
@target_option
@plan_format_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="The same as --format json (env values that look secret are masked; a plan saved "
    "with --out keeps them, as apply sends them).",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are, 1 on error.",
)
@click.option(
    "--drift",
    is_flag=True,
    help="As --detailed-exitcode, but exit 2 only for differences that are not schedule "
    "transitions now due (a window's edge the scheduled apply has yet to reach); the plan still "
    "shows them.",
)
@click.option(
    "--require-secrets/--allow-missing-secrets",
    default=None,
    help="A change that sends a `from_env` secret whose variable is neither set here nor "
    "recorded as set on the apply side (the state's secret names) is an error, not a "
    "warning: apply would refuse it. Default: required when the CI variable is set.",
)
@click.pass_obj
def plan(
    context: Context,
    spec_dir: Path,
    root: Path | None,
    changed_since: str | None,
    api_url: str | None,
    out: Path | None,
    out_dir: Path | None,
    resend_secrets: bool,
    resend_not_kept: bool,
    allow_mass_delete: bool,
    allow_over_quota: bool,
    targets: tuple[str, ...],
    output: str | None,
    as_json: bool,
    detailed_exitcode: bool,
    drift: bool,
    require_secrets: bool | None,
) -> None:
    """Compare the specs under --dir with the live endpoints and print the changes."""
    view = chosen_format(output, as_json)
    if root is not None or changed_since is not None or out_dir is not None:
        ctx = click.get_current_context()
        one = "(use --out-dir: one plan file per stack)"
        refuse_with_dir(
            ctx, root, (out is not None, f"--out {one}"), (view == "json", f"--format json {one}")
        )
        if root is None:
            raise click.UsageError("--changed-since and --out-dir go with --root", ctx)
        run_stacks(
            ctx,
            root,
            verb="plan",
            changed_since=changed_since,
            markdown=view == "markdown",
            detailed_exitcode=detailed_exitcode,
            out_dir=out_dir,
        )
    session = connect(context, load(spec_dir), api_url)
    if require_secrets is None:
        # In CI the plan is a pull request's check: it must fail while the apply on merge
        # would refuse a change for a secret it does not have.
        ci = context.environ.get("CI", "").strip().lower()
        require_secrets = ci not in ("", "0", "false", "no")
    result = session.checked_plan(
        resend_secrets=resend_secrets,
        resend_not_kept=resend_not_kept,
        allow_mass_delete=allow_mass_delete,
        allow_over_quota=allow_over_quota,
        targets=targets,
        require_secrets=require_secrets,
    )
    echo_plan_as(context, result, view)
    if out is not None:
        try:
            out.write_text(dumps(result), encoding="utf-8")
        except OSError as error:
            raise ProvisionerError.because(
                f"cannot write the plan: {error.strerror}", Mark(out)
            ) from error
        click.echo(
            f"Saved the plan to {out}; apply exactly it with: "
            f"{session.command('apply')} {shlex.quote(str(out))}",
            err=True,
        )
    if drift:
        due = scheduled(result)
        if due:
            click.echo(
                "Not counted as drift (due to a schedule, which the scheduled apply follows): "
                + ", ".join(c.address for c in due),
                err=True,
            )
        if drifted(result):
            raise SystemExit(2)
    elif detailed_exitcode and result.has_changes:
        raise SystemExit(2)
