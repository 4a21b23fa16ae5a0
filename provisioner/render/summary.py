"""The closing lines of `apply` and `destroy`: what was done, and what failed. Pure: outcomes in,
str out. Whether the text goes to stdout (all done) or stderr (something failed) is the CLI's
choice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from provisioner.apply.results import Outcome
from provisioner.plan.model import Action

DONE = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.REPLACE: "replaced",
    Action.DELETE: "deleted",
    Action.PAUSE: "paused",
    Action.RESUME: "resumed",
}


def counts_line(outcomes: Sequence[Outcome]) -> str:
    """`2 created, 1 deleted; 1 failed`, in the order the changes ran, or `nothing changed`.
    With failures and nothing finished, `none finished`: a failed change may have done part of
    its steps (a replacement that deleted but could not create), so "nothing changed" could lie."""
    done = Counter(o.change.action for o in outcomes if o.ok)
    failed = sum(1 for o in outcomes if not o.ok)
    nothing = "none finished" if failed else "nothing changed"
    line = ", ".join(f"{n} {DONE[action]}" for action, n in done.items() if n) or nothing
    return f"{line}; {failed} failed" if failed else line


def render_summary(outcomes: Sequence[Outcome], *, verb: str) -> str:
    """`Apply complete: ...`, or `Apply incomplete: ...` with one line per failed change."""
    failed = [o for o in outcomes if not o.ok]
    title = verb.capitalize()
    if not failed:
        return f"\n{title} complete: {counts_line(outcomes)}.\n"
    lines = [f"\n{title} incomplete: {counts_line(outcomes)}."]
    lines += [f"  ✗ {o.change.address}: {o.error}" for o in failed]
    lines.append("The other changes finished; fix the cause and run it again.")
    return "\n".join(lines) + "\n"
