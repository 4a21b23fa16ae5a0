"""`provisioner apply [PLAN]` and `provisioner destroy`: confirm, execute, wait, report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from provisioner.apply.executor import DEFAULT_PARALLELISM, Executor
from provisioner.apply.guard import resolve_secrets, stale
from provisioner.apply.results import Outcome
from provisioner.apply.waiter import DEFAULT_TIMEOUT, Waiter
from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option, resend_secrets_option
from provisioner.cli.progress import PlainReporter, TtyReporter
from provisioner.cli.session import Session, Stop, connect, load, show_diagnostics
from provisioner.plan.document import PlanFormatError, loads
from provisioner.plan.model import Action, Plan
from provisioner.render.text import render_plan
from provisioner.spec.stack import load_stack


def _run_options(function: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        [
            dir_option,
            api_url_option,
            click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (CI)."),
            click.option(
                "--parallelism",
                type=click.IntRange(1, 64),
                default=DEFAULT_PARALLELISM,
                show_default=True,
                help="How many endpoints are changed at the same time.",
            ),
            click.option(
                "--wait/--no-wait",
                default=True,
                show_default=True,
                help="Wait until every changed endpoint is running (health 200), paused or gone.",
            ),
            click.option(
                "--timeout",
                type=click.FloatRange(min=1),
                default=DEFAULT_TIMEOUT,
                show_default=True,
                help="Seconds to wait for endpoints to reach their target.",
            ),
        ]
    ):
        function = option(function)
    return function


def _confirm(context: Context, plan: Plan, auto_approve: bool, verb: str) -> None:
    if auto_approve:
        return
    if not context.stdin_is_tty():
        raise Stop(
            f"refusing to {verb} without confirmation: not a terminal; review the plan and "
            "pass --auto-approve (as CI does)"
        )
    count = len(plan.actionable)
    answer = click.prompt(
        f"{verb.capitalize()} {count} change(s) to stack {plan.stack!r}? Only 'yes' is accepted",
        default="",
        show_default=False,
    )
    if answer.strip() != "yes":
        raise Stop(f"{verb} cancelled; nothing was changed")


def _summary(outcomes: list[Outcome]) -> tuple[str, list[Outcome]]:
    failed = [o for o in outcomes if not o.ok]
    done = Counter(o.change.action for o in outcomes if o.ok)
    words = {
        Action.CREATE: "created",
        Action.UPDATE: "updated",
        Action.REPLACE: "replaced",
        Action.DELETE: "deleted",
        Action.PAUSE: "paused",
        Action.RESUME: "resumed",
    }
    parts = [f"{n} {words[a]}" for a, n in done.items() if n]
    line = ", ".join(parts) or "nothing changed"
    if failed:
        line += f"; {len(failed)} failed"
    return line, failed


def execute(
    session: Session,
    plan: Plan,
    *,
    auto_approve: bool,
    parallelism: int,
    wait: bool,
    timeout: float,
    verb: str,
) -> None:
    """Confirm, resolve secrets, run the changes, wait, report; exit 1 on any failure."""
    context = session.context
    if not plan.has_changes:
        return
    # Before asking: a missing secret should not cost a confirmation that leads nowhere.
    secrets, missing = resolve_secrets(plan, context.environ)
    if missing:
        raise Stop("\n".join(["nothing was changed:", *missing]))
    _confirm(context, plan, auto_approve, verb)
    reporter = TtyReporter() if context.is_tty() else PlainReporter()
    executor = Executor(
        session.api,
        plan.stack,
        secrets,
        reporter,
        sleep=context.sleep,
        clock=context.clock,
        parallelism=parallelism,
    )
    outcomes = executor.run(plan)
    if wait:
        waiter = Waiter(
            session.api,
            reporter,
            sleep=context.sleep,
            clock=context.clock,
            timeout=timeout,
            interval=context.wait_interval,
        )
        outcomes = waiter.wait(outcomes)
    line, failed = _summary(outcomes)
    if failed:
        click.echo(f"\n{verb.capitalize()} incomplete: {line}.", err=True)
        for outcome in failed:
            click.echo(f"  ✗ {outcome.change.address}: {outcome.error}", err=True)
        click.echo("The other changes finished; fix the cause and run it again.", err=True)
        raise SystemExit(1)
    click.echo(f"\n{verb.capitalize()} complete: {line}.")


def _saved(session: Session, path: Path) -> Plan:
    try:
        saved = loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise Stop(f"cannot read {path}: {error.strerror}") from error
    except PlanFormatError as error:
        raise Stop(f"{path}: {error}") from error
    if saved.stack != session.stack.settings.stack:
        raise Stop(
            f"{path} is a plan for stack {saved.stack!r}, but {session.stack.root} is stack "
            f"{session.stack.settings.stack!r}"
        )
    if saved.errors:
        raise Stop(f"{path} has errors; make a new plan")
    fleet = session.read(required={c.namespace for c in saved.actionable})
    problems = stale(saved, fleet)
    if problems:
        raise Stop(
            "\n".join(
                [
                    f"{path} is stale; nothing was changed:",
                    *(f"  {p}" for p in problems),
                    "Run `provisioner plan` again and review the new plan.",
                ]
            )
        )
    return saved


@click.command()
@click.argument("plan_file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@_run_options
@resend_secrets_option
@click.pass_obj
def apply(
    context: Context,
    /,
    plan_file: Path | None,
    spec_dir: Path,
    api_url: str | None,
    resend_secrets: bool,
    **run: Any,
) -> None:
    """Make the live endpoints match the specs under --dir (or exactly the saved PLAN_FILE)."""
    if plan_file is not None:
        if resend_secrets:
            raise Stop("--resend-secrets is a planning option: pass it to `plan --out` instead")
        stack, _ = load_stack(spec_dir)
        session = connect(context, stack, api_url)
        plan = _saved(session, plan_file)
    else:
        session = connect(context, load(spec_dir), api_url)
        plan, _ = session.plan(resend_secrets=resend_secrets)
        show_diagnostics(plan.diagnostics)
        if plan.errors:
            raise SystemExit(1)
    click.echo(render_plan(plan), nl=False)
    execute(session, plan, verb="apply", **run)


@click.command()
@_run_options
@click.pass_obj
def destroy(context: Context, /, spec_dir: Path, api_url: str | None, **run: Any) -> None:
    """Delete every endpoint this stack manages. Protected endpoints are refused."""
    session = connect(context, load(spec_dir), api_url)
    plan, _ = session.plan(destroy=True)
    show_diagnostics(plan.diagnostics)
    click.echo(render_plan(plan), nl=False)
    execute(session, plan, verb="destroy", **run)
    if plan.refused:
        names = ", ".join(c.address for c in plan.refused)
        raise Stop(
            f"refused to destroy protected endpoint(s): {names}; apply 'protect: false' for "
            "them first"
        )
