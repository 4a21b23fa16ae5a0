"""Which state the waiter waits for, per kind of change."""

from __future__ import annotations

import pytest

from provisioner.apply.waiter import GONE, PAUSED, RUNNING, target
from provisioner.plan.model import Action, ResourceChange, Seen

A = Action


@pytest.mark.parametrize(
    ("steps", "seen", "expected"),
    [
        ((A.CREATE,), None, RUNNING),
        ((A.CREATE, A.PAUSE), None, PAUSED),
        ((A.DELETE,), "running", GONE),
        # A paused endpoint replaced by one declared running: the new one runs.
        ((A.DELETE, A.CREATE), "paused", RUNNING),
        ((A.DELETE, A.CREATE, A.PAUSE), "running", PAUSED),
        ((A.UPDATE,), "running", RUNNING),
        ((A.UPDATE,), "paused", PAUSED),  # updated while paused: stays paused
        # Resumed, then the declared replica counts (resuming sets 1/1): it runs.
        ((A.RESUME, A.UPDATE), "paused", RUNNING),
        ((A.RESUME, A.UPDATE), "scaledToZero", RUNNING),
        ((A.PAUSE, A.UPDATE), "running", PAUSED),
        ((A.RESUME,), "paused", RUNNING),
    ],
)
def test_target(steps: tuple[Action, ...], seen: str | None, expected: str) -> None:
    change = ResourceChange(
        "acme", "x", steps[0], (), Seen(exists=seen is not None, state=seen), steps=steps
    )
    assert target(change) == expected
