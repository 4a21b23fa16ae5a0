"""The closing lines of `apply` and `destroy`: what was done, and what failed. Pure: outcomes in,
str out. Whether the text goes to stdout (all done) or stderr (something failed) is the CLI's
choice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from provisioner.apply.results import Outcome
from provisioner.plan.model import Action, ResourceChange
from provisioner.render.reasons import counted
from provisioner.render.smoke import smoke_line

DONE = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.PAUSE: "paused",
    Action.RESUME: "resumed",
}


def counts_line(outcomes: Sequence[Outcome], words: Mapping[Action, str] = DONE) -> str:
    """`2 created, 1 deleted; 1 failed`, in the order the changes ran, or `nothing changed`.
    A change the service accepted but that did not settle counts as done, and says so
    (`1 created (not settled)`): the endpoint exists and bills. With failures and nothing done,
    `none finished`: a failed change may have done part of its steps (a replacement that
    deleted but could not create), so "nothing changed" could lie."""
    done = Counter(o.change.action for o in outcomes if o.ok or o.smoke_failed)
    unsettled = Counter(
        o.change.action for o in outcomes if o.accepted and not o.ok and not o.smoke_failed
    )
    failed = sum(1 for o in outcomes if not o.ok and not o.accepted and not o.refused)
    refused = sum(1 for o in outcomes if o.refused)
    smoke_failed = sum(1 for o in outcomes if o.smoke_failed)
    parts = [f"{n} {words[action]}" for action, n in done.items() if n]
    parts += [f"{n} {words[action]} (not settled)" for action, n in unsettled.items() if n]
    nothing = "none finished" if failed else "nothing changed"
    line = ", ".join(parts) or nothing
    if failed:
        line += f"; {failed} failed"
    if refused:
        line += f"; {refused} refused (nothing sent)"
    if smoke_failed:
        line += f"; {counted(smoke_failed, 'smoke test')} failed"
    return line


def after_address(address: str, error: str) -> str:
    """The error as said after `address: `, without the address it repeats: `acme/x failed to
    deploy: ...` -> `failed to deploy: ...`, `create acme/x: 409 ...` -> `create: 409 ...`."""
    if error.startswith(f"{address} "):
        return error[len(address) + 1 :]
    verb, found, rest = error.partition(f" {address}:")
    if found and verb.isalpha():
        return f"{verb}:{rest}"
    return error


def _failure(outcome: Outcome) -> str:
    """`✗ acme/a: create accepted, but did not become running within 30s (...)`: the address
    once, and what the service did take."""
    if outcome.smoke is not None and outcome.smoke_failed:
        return smoke_line(outcome.smoke)
    what = after_address(outcome.change.address, outcome.error or "failed")
    if outcome.accepted:
        return f"  ✗ {outcome.change.address}: {outcome.change.action.value} accepted, but {what}"
    return f"  ✗ {outcome.change.address}: {what}"


def _logs(outcome: Outcome, command_options: str) -> list[str]:
    """Under a failed deployment: the last lines of its logs (scrubbed by the ledger), and the
    command that shows more, as it runs."""
    if not outcome.logs:
        return []
    more = " ".join(["provisioner logs", outcome.change.address, command_options]).rstrip()
    return [
        f"    its last {counted(len(outcome.logs), 'log line')}:",
        *(f"      {line}" for line in outcome.logs),
        f"    more: {more}",
    ]


def render_summary(
    outcomes: Sequence[Outcome],
    *,
    verb: str,
    words: Mapping[Action, str] = DONE,
    command_options: str = "",
) -> str:
    """`Apply complete: ...`, or `Apply incomplete: ...` with one line per change that did not
    finish, and what that leaves behind. `command_options` (`--dir D --api-url U`) is repeated
    in the commands it suggests."""
    failed = [o for o in outcomes if not o.ok]
    title = verb.capitalize()
    smoked = [smoke_line(o.smoke) for o in outcomes if o.smoke is not None and o.ok]
    if not failed:
        return "\n".join([f"\n{title} complete: {counts_line(outcomes, words)}.", *smoked]) + "\n"
    lines = [
        f"\n{title} incomplete: {counts_line(outcomes, words)}.",
        *smoked,
        *(line for o in failed for line in [_failure(o), *_logs(o, command_options)]),
    ]
    smoke_failed = [o.change.address for o in failed if o.smoke_failed]
    if smoke_failed:
        again = " ".join(["provisioner smoke", *smoke_failed, command_options]).rstrip()
        lines.append(
            "A failed smoke test leaves its change in place: fix the endpoint or its `smoke:`, "
            f"then check again with `{again}`."
        )
    if any(o.accepted and not o.smoke_failed for o in failed):
        lines.append(
            "An endpoint that did not settle exists all the same: `provisioner status` shows "
            "where it stands, and the next plan names it."
        )
    if any(o.ok for o in outcomes):
        lines.append("The other changes finished; fix the cause and run it again.")
    else:
        lines.append("Fix the cause and run it again.")
    return "\n".join(lines) + "\n"


def render_interrupted(
    plan_changes: Sequence[ResourceChange],
    sent: Mapping[str, Sequence[Action]],
    finished: Mapping[str, Outcome],
    *,
    plan_command: str,
) -> str:
    """What an interrupted apply had sent, endpoint by endpoint: enough to know what may have
    changed before looking (`plan` shows where each stands; applying again converges)."""
    lines = ["Interrupted. What had been sent:"]
    for change in plan_changes:
        steps = sent.get(change.address, ())
        outcome = finished.get(change.address)
        if outcome is not None:
            state = "accepted" if outcome.ok else f"failed: {outcome.error}"
            what = f"{change.action.value} {state}"
        elif steps:
            what = f"{', then '.join(s.value for s in steps)} sent (no answer yet)"
        else:
            what = "not started"
        lines.append(f"  {change.address}: {what}")
    lines.append(
        f"Run `{plan_command}` to see where each endpoint stands; applying again converges."
    )
    return "\n".join(lines) + "\n"
