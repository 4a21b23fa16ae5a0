"""The closing lines of apply and destroy, from outcomes alone."""

from __future__ import annotations

from provisioner.apply.results import Outcome
from provisioner.plan.model import Action, ResourceChange, Seen
from provisioner.render.summary import render_summary


def outcome(name: str, action: Action, error: str | None = None) -> Outcome:
    change = ResourceChange("acme", name, action, "why", Seen(action is not Action.CREATE))
    return Outcome(change, ok=error is None, error=error)


def test_complete_counts_what_was_done_in_order() -> None:
    done = [outcome("a", Action.DELETE), outcome("b", Action.CREATE), outcome("c", Action.CREATE)]
    assert render_summary(done, verb="apply") == "\nApply complete: 1 deleted, 2 created.\n"
    assert render_summary([], verb="destroy") == "\nDestroy complete: nothing changed.\n"


def test_incomplete_names_each_failure_and_says_the_rest_finished() -> None:
    mixed = [outcome("a", Action.UPDATE), outcome("b", Action.CREATE, "create acme/b: 409")]
    assert render_summary(mixed, verb="apply") == (
        "\nApply incomplete: 1 updated; 1 failed.\n"
        "  ✗ acme/b: create: 409\n"
        "The other changes finished; fix the cause and run it again.\n"
    )
