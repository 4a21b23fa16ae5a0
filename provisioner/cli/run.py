"""What `apply` and `destroy` share: their options, the confirmation prompt, the progress
reporter for this terminal, and the closing summary with its exit code."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import click

from provisioner.apply.executor import DEFAULT_PARALLELISM
from provisioner.apply.outputs import outputs_after_apply, urls_before
from provisioner.apply.results import Ledger, Outcome, Reporter
from provisioner.apply.waiter import DEFAULT_TIMEOUT
from provisioner.apply.workflow import ApplyOptions, Collaborators, apply_plan
from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option
from provisioner.cli.progress import PlainReporter, TtyReporter
from provisioner.cli.session import Session, show_diagnostics
from provisioner.hub.models import Fleet
from provisioner.plan.model import Plan
from provisioner.plan.readback import quoted
from provisioner.render.outputs import render_moved
from provisioner.render.reasons import counted
from provisioner.render.summary import render_interrupted, render_summary
from provisioner.spec.diagnostics import Address, Diagnostic, Mark, ProvisionerError, Severity
from provisioner.spec.smoke import SmokeSpec

# A week: far beyond any deploy, short enough that a typo (an extra zero or two) is refused.
MAX_TIMEOUT = 7 * 24 * 3600.0


class Seconds(click.ParamType[Any, float]):
    """A finite number of seconds from `minimum` to `MAX_TIMEOUT`. click's FloatRange lets `nan`
    (it compares false with both bounds) and, without a maximum, `inf` through."""

    name = "seconds"

    def __init__(self, minimum: float = 1) -> None:
        self.minimum = minimum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or not self.minimum <= seconds <= MAX_TIMEOUT:
            self.fail(
                f"{value} is not a number of seconds from {self.minimum:g} to "
                f"{MAX_TIMEOUT:.0f} (a week)",
                param,
                ctx,
            )
        return seconds


RUN_OPTIONS = [
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
        type=Seconds(),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        help="Seconds to wait for endpoints to reach their target.",
    ),
    click.option(
        "--lock-timeout",
        type=Seconds(minimum=0),
        default=0,
        show_default=True,
        help="Seconds to wait for the stack's state lock when another apply holds it.",
    ),
]


smoke_option = click.option(
    "--smoke/--no-smoke",
    default=True,
    show_default=True,
    help="Run the smoke test (`smoke:` in a spec) of each endpoint created, updated, replaced "
    "or resumed, once it is ready; a failing one makes apply exit 1.",
)


def run_options(function: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(RUN_OPTIONS):
        function = option(function)
    return function


def confirmer(context: Context, *, auto_approve: bool, verb: str) -> Callable[[Plan], None]:
    """Ask on a terminal; only "yes" proceeds. Without a terminal, only --auto-approve does."""

    def confirm(plan: Plan) -> None:
        if auto_approve:
            return
        if not context.stdin_is_tty():
            raise ProvisionerError.because(
                f"refusing to {verb} without confirmation: not a terminal; review the plan and "
                "pass --auto-approve (as CI does)"
            )
        count = len(plan.actionable)
        what = (
            f"{counted(count, 'endpoint')} of stack {plan.stack!r}"
            if verb == "destroy"
            else f"{counted(count, 'change')} to stack {plan.stack!r}"
        )
        answer = click.prompt(
            f"{verb.capitalize()} {what}? Only 'yes' is accepted",
            default="",
            show_default=False,
        )
        if answer.strip() != "yes":
            raise ProvisionerError.because(f"{verb} cancelled; nothing was changed")

    return confirm


def reporter(context: Context) -> Reporter:
    return TtyReporter() if context.is_tty() else PlainReporter()


def smoke_tests(session: Session) -> dict[str, SmokeSpec]:
    """The stack's smoke tests, by endpoint address."""
    specs = session.stack.resolved_specs(session.identity.user)
    return {f"{s.namespace}/{s.name}": s.smoke for s in specs if s.smoke is not None}


def execute(
    session: Session,
    plan: Plan,
    *,
    verb: str,
    auto_approve: bool,
    parallelism: int,
    wait: bool,
    timeout: float,
    lock_timeout: float = 0,
    smoke: bool = False,
) -> None:
    """Apply the plan with this terminal's collaborators, record it in the stack's state (the
    caller holds its lock), print the summary; exit 1 on failure."""
    context = session.context
    ledger = Ledger(reporter(context))
    collaborators = Collaborators(
        ledger,
        clock=context.clock,
        sleep=context.sleep,
        confirm=confirmer(context, auto_approve=auto_approve, verb=verb),
    )
    options = ApplyOptions(
        parallelism=parallelism,
        wait=wait,
        timeout=timeout,
        interval=context.wait_interval,
        command_options=session.selector,
        smoke=smoke_tests(session) if smoke else {},
    )
    try:
        outcomes = apply_plan(
            session.api,
            plan,
            context.environ,
            collaborators=collaborators,
            options=options,
            recording=session.recording,
        )
    except KeyboardInterrupt:
        if ledger.sent:
            account = render_interrupted(
                plan.actionable, ledger.sent, ledger.outcomes, plan_command=session.command("plan")
            )
            click.echo(account, err=True, nl=False)
        raise
    if not plan.has_changes:
        return
    ok = all(o.ok for o in outcomes)
    summary = render_summary(outcomes, verb=verb, command_options=session.selector)
    click.echo(summary, err=not ok, nl=False)
    show_diagnostics(not_kept_warnings(session, outcomes))
    if verb == "apply" and wait:
        _outputs_changed(session, outcomes)
    if not ok:
        raise SystemExit(1)


def not_kept_warnings(session: Session, outcomes: Sequence[Outcome]) -> list[Diagnostic]:
    """A warning at the spec's line for each value an accepted change sent and the service's
    answer did not hold: reported once, here; the state records it and later plans show it
    as "not kept by the service" instead of sending it again."""
    specs = {
        f"{s.namespace}/{s.name}": s for s in session.stack.resolved_specs(session.identity.user)
    }
    warnings = []
    for outcome in outcomes:
        spec = specs.get(outcome.change.address)
        change = outcome.change
        for field in outcome.not_kept:
            where: Mark | Address = (
                spec.source.mark(*field.path.split("."))
                if spec is not None
                else Address(change.namespace, change.name)
            )
            shown, reported = quoted(field)
            warnings.append(
                Diagnostic(
                    where,
                    f"{field.path}: {change.address}: the service accepted the "
                    f"{change.action.value} but did not keep {shown} (it reports "
                    f"{reported}); the engine may not support this value. It is recorded, and "
                    "not sent again until the spec or the service changes: remove it from the "
                    f"spec, or `{session.command('apply')} --resend-not-kept` to try again",
                    Severity.WARNING,
                )
            )
    return warnings


def _outputs_changed(session: Session, outcomes: list[Outcome]) -> None:
    """The URLs the apply gave, moved or took away (`provisioner output` for all of them). A
    failure to read them is a warning: the apply itself is done."""
    specs = session.stack.resolved_specs(session.identity.user)
    fleet = session.fleet or Fleet()
    try:
        moved = outputs_after_apply(
            session.api,
            specs,
            outcomes,
            urls_before(specs, fleet.index()),
            scrubber=session.scrubber(),
        )
    except ProvisionerError as error:
        said = session.context.scrubber().outside(str(error))
        click.echo(f"warning: the new URLs could not be read: {said}", err=True)
        return
    commands = {
        "output_command": session.command("output"),
        "apply_command": session.command("apply"),
    }
    click.echo(render_moved(moved, **commands), nl=False)
