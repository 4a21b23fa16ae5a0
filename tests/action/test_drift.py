"""`command: drift` (daily on main), `apply` and `validate`: drift opens one labelled issue (the
label made when missing), comments on it while the drift lasts, and closes it once an apply has
made the fleet match; every failure fails the step."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.action.conftest import Run
from tests.action.fake_github import FakeGitHub
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import write_spec
from tests.support.cli import run

pytestmark = pytest.mark.slow

LABEL = "provisioner-drift"


def test_drift_opens_one_issue_comments_while_it_lasts_and_closes_it_after_an_apply(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    write_spec(tmp_path / "endpoints", "chat", namespace="acme")
    scheduled = {"event": {}, "event_name": "schedule"}

    found = run_action(instant_emulator, command="drift", **scheduled)

    assert (found.outputs["exit-code"], found.outputs["failed"]) == ("2", "true"), found.log
    assert "::error title=drift::the live endpoints differ" in found.stdout
    (issue,) = github.issues()
    assert issue["state"] == "open" and issue["labels_names"] == [LABEL]
    assert (
        "acme/chat" in issue["body"]
        and "https://github.test/acme/specs/actions/runs/4242" in (issue["body"])
    )
    assert found.outputs["issue-url"] == issue["html_url"]
    assert github.state.labels == [LABEL]
    assert "drift: the live endpoints differ" in found.summary

    again = run_action(instant_emulator, command="drift", **scheduled)

    assert again.outputs["exit-code"] == "2"
    assert len(github.issues()) == 1
    (comment,) = github.comments(issue["number"])
    assert "acme/chat" in comment["body"]

    # A scheduled apply leaves drift alone (it makes only schedule transitions); a person runs
    # the apply workflow by hand to converge.
    left = run_action(instant_emulator, command="apply", **scheduled)
    assert left.outputs["exit-code"] == "0" and "Left alone: 1 endpoint(s)" in left.log
    dispatched = {"event": {}, "event_name": "workflow_dispatch"}
    applied = run_action(instant_emulator, command="apply", **dispatched)
    assert (applied.outputs["exit-code"], applied.outputs["failed"]) == ("0", "false"), applied.log
    assert "provisioner apply `endpoints`: applied" in applied.summary

    clean = run_action(instant_emulator, command="drift", **scheduled)

    assert (clean.outputs["exit-code"], clean.outputs["failed"]) == ("0", "false"), clean.log
    (closed,) = github.issues()
    assert closed["state"] == "closed"
    assert "match the specs in `endpoints` again" in github.comments(issue["number"])[-1]["body"]


def test_a_schedules_due_edge_is_not_drift_and_opens_no_issue(
    tmp_path: Path,
    instant_emulator: Emulator,
    github: FakeGitHub,
    run_action: Run,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Applied inside its window; the drift run comes after the window closed, before the
    scheduled apply paused it: the plan shows the pause, and no issue is opened."""
    specs = tmp_path / "endpoints"
    window = {"days": "mon-fri", "hours": "08:00-10:00"}  # FIXED_NOW is 11:00 in Madrid
    schedule = {"timezone": "Europe/Madrid", "windows": [window], "outside": "paused"}
    write_spec(specs, "chat", namespace="acme", schedule=schedule)
    inside = context_for(instant_emulator, PROVISIONER_NOW="2027-03-24T08:30:00Z")
    applied = run(capsys, "apply", "--dir", str(specs), "--auto-approve", context=inside)
    assert applied.code == 0, applied.text

    found = run_action(instant_emulator, command="drift", event={}, event_name="schedule")

    assert (found.outputs["exit-code"], found.outputs["failed"]) == ("0", "false"), found.log
    assert "acme/chat: pause" in found.log and "paused by its schedule" in found.log
    assert "Not counted as drift" in found.log
    assert github.issues() == [] and github.state.labels == []


def test_drift_that_cannot_plan_fails_and_leaves_the_issues_alone(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    write_spec(tmp_path / "endpoints", "chat", namespace="acme")

    run = run_action(emulator, command="drift", event={}, event_name="schedule", hf_token="hf_bad")

    assert (run.outputs["exit-code"], run.outputs["failed"]) == ("1", "true")
    assert "::error title=plan failed::" in run.stdout
    assert github.requests() == []


def test_apply_and_validate_fail_on_a_bad_spec_before_anything_is_sent(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    write_spec(tmp_path / "endpoints", "chat", namespace="acme", scaling={"max_replica": 2})

    for command in ("validate", "apply"):
        run = run_action(emulator, command=command, event={}, event_name="push")
        assert (run.outputs["exit-code"], run.outputs["failed"]) == ("1", "true"), command
        located = "endpoints/chat.yaml:13:3: error: scaling: unknown key 'max_replica'"
        assert located in run.summary and located in run.stderr, run.log
    assert not [r for r in emulator.requests() if r["method"] in ("POST", "PUT", "DELETE")]


def test_validate_of_good_specs_passes(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    write_spec(tmp_path / "endpoints", "chat", namespace="acme")

    run = run_action(emulator, command="validate", event={}, event_name="push")

    assert (run.outputs["exit-code"], run.outputs["failed"]) == ("0", "false")
    assert "provisioner validate `endpoints`: every spec is valid" in run.summary
