"""How far the changes of an interrupted apply got (`recording.cut_short`), from what the ledger
saw: answered, waited for (row by row), smoke-tested. Pure: no API."""

from __future__ import annotations

from provisioner.apply.recording import cut_short
from provisioner.apply.results import Ledger, Outcome, SilentReporter, WaitRow
from provisioner.plan.model import Action, ResourceChange, Seen
from provisioner.spec.smoke import SmokeExpect, SmokeSpec


def _create(name: str) -> ResourceChange:
    return ResourceChange(
        "acme", name, Action.CREATE, (), Seen(exists=False), steps=(Action.CREATE,)
    )


A, B, C = _create("a"), _create("b"), _create("c")


def _ledger(*outcomes: Outcome) -> Ledger:
    ledger = Ledger(SilentReporter())
    for outcome in outcomes:
        ledger.finished(outcome)
    return ledger


def test_while_waiting_a_settled_change_is_final_a_failed_one_failed_the_rest_unfinished() -> None:
    ledger = _ledger(Outcome(A, ok=True), Outcome(B, ok=True), Outcome(C, ok=True))
    ledger.made = list(ledger.outcomes.values())
    ledger.waiting(
        [
            WaitRow("acme/a", "running", "running", 30.0, done=True),
            WaitRow("acme/b", "running", "failed", 30.0, True, True, "acme/b failed to deploy"),
            WaitRow("acme/c", "running", "initializing", 30.0),
        ]
    )
    final, unfinished = cut_short(ledger, wait=True, smoke={})
    assert {a: (o.ok, o.error) for a, o in final.items()} == {
        "acme/a": (True, None),
        "acme/b": (False, "acme/b failed to deploy"),
    }
    assert final["acme/b"].accepted  # it exists, and bills
    assert unfinished == {
        "acme/c": "accepted, but the apply was interrupted before it was running "
        "(last state: initializing)"
    }


def test_without_waiting_an_accepted_change_is_final() -> None:
    ledger = _ledger(Outcome(A, ok=True), Outcome(B, ok=False, error="quota"))
    final, unfinished = cut_short(ledger, wait=False, smoke={})
    assert {a: o.ok for a, o in final.items()} == {"acme/a": True, "acme/b": False}
    assert unfinished == {}


def test_during_the_smoke_tests_only_the_tested_changes_are_unfinished() -> None:
    ledger = _ledger(Outcome(A, ok=True), Outcome(B, ok=True))
    ledger.made = ledger.settled = list(ledger.outcomes.values())
    test = SmokeSpec(request={"inputs": "hi"}, expect=SmokeExpect())
    final, unfinished = cut_short(ledger, wait=True, smoke={"acme/a": test})
    assert list(final) == ["acme/b"]
    assert unfinished == {"acme/a": "settled, but the apply was interrupted before its smoke test"}
