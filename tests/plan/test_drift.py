"""Which changes a drift check counts (`plan.drift`): a change only a schedule is due to make is
not drift; one with any other reason is, schedule or not."""

from __future__ import annotations

from provisioner.plan.drift import drifted, due_to_schedule, scheduled
from provisioner.plan.model import Action, Plan, Reason, ReasonCode, ResourceChange, Seen

RUNNING = Seen(exists=True, state="running", fingerprint="f")


def _change(name: str, action: Action, *codes: ReasonCode) -> ResourceChange:
    reasons = tuple(Reason(code) for code in codes)
    return ResourceChange("acme", name, action, reasons, RUNNING, steps=(action,))


def test_a_schedules_transition_alone_is_not_drift() -> None:
    for code in (ReasonCode.SCHEDULE_PAUSE, ReasonCode.SCHEDULE_RESUME):
        assert due_to_schedule(_change("svc", Action.PAUSE, code))
    both = _change("svc", Action.UPDATE, ReasonCode.SCHEDULE_SCALING, ReasonCode.SCHEDULE_RESUME)
    assert due_to_schedule(both)


def test_a_change_with_any_other_reason_is_drift_even_beside_a_schedules() -> None:
    mixed = _change("svc", Action.UPDATE, ReasonCode.SCHEDULE_SCALING, ReasonCode.CHANGED_OUTSIDE)
    assert not due_to_schedule(mixed)
    assert not due_to_schedule(_change("svc", Action.UPDATE, ReasonCode.FIELDS_DIFFER))
    assert not due_to_schedule(_change("svc", Action.UPDATE))  # no reason: not a schedule's


def test_a_plan_splits_into_drift_and_schedules_transitions_no_ops_in_neither() -> None:
    plan = Plan(
        stack="team",
        changes=(
            _change("a", Action.PAUSE, ReasonCode.SCHEDULE_PAUSE),
            _change("b", Action.UPDATE, ReasonCode.CHANGED_OUTSIDE),
            _change("c", Action.NOOP, ReasonCode.MATCHES),
        ),
    )
    assert [c.name for c in drifted(plan)] == ["b"]
    assert [c.name for c in scheduled(plan)] == ["a"]
