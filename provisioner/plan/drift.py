"""Which of a plan's changes a drift check counts (`plan --drift`): every change but one that only
a schedule is due to make, its reasons all `schedule-*` (a window opened or closed since the
last scheduled apply, which makes it on its next run). A change with any other reason too (a
hand edit, a spec not yet applied) is drift, whatever its schedule does.

Pure, and for pipelines only (the exit code of a drift check): this is the one place a reason
code decides something, and nothing here changes what apply does.
"""

from __future__ import annotations

from provisioner.plan.model import Plan, ReasonCode, ResourceChange

SCHEDULE_REASONS = frozenset(
    {ReasonCode.SCHEDULE_PAUSE, ReasonCode.SCHEDULE_RESUME, ReasonCode.SCHEDULE_SCALING}
)


def due_to_schedule(change: ResourceChange) -> bool:
    """The change is a schedule's transition and nothing else."""
    return bool(change.reasons) and all(r.code in SCHEDULE_REASONS for r in change.reasons)


def drifted(plan: Plan) -> tuple[ResourceChange, ...]:
    """The plan's changes that are drift: not a schedule's transition."""
    return tuple(c for c in plan.actionable if not due_to_schedule(c))


def scheduled(plan: Plan) -> tuple[ResourceChange, ...]:
    """The plan's changes that only a schedule is due to make."""
    return tuple(c for c in plan.actionable if due_to_schedule(c))
