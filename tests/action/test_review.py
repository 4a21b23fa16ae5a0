"""`command: apply` on a push applies what the merged pull request's plan comment showed: the
action finds that pull request from the pushed commit, reads the changes digest its comment
recorded, and runs `apply --reviewed-digest`. A branch that moved upstream after the review, a
push that no pull request merged, or a comment left from an older push changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.action.conftest import HEAD_SHA, PR_NUMBER, Run
from tests.action.fake_github import FakeGitHub
from tests.reconcile.helpers import live, mutations, write_spec

pytestmark = pytest.mark.slow

PUSH = {"event": {"ref": "refs/heads/main"}, "event_name": "push"}


def _reviewed(tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run) -> str:
    write_spec(tmp_path / "endpoints", "chat", namespace="acme", model={"revision": "main"})
    planned = run_action(emulator, command="plan")
    assert planned.outputs["exit-code"] == "2", planned.log
    (comment,) = github.comments(PR_NUMBER)
    assert "<!-- provisioner-changes-digest: sha256:" in comment["body"]
    github.merge(PR_NUMBER, merge_commit_sha=HEAD_SHA, head_sha=HEAD_SHA)
    return str(comment["body"])


def test_a_merge_applies_the_reviewed_plan(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    _reviewed(tmp_path, instant_emulator, github, run_action)
    applied = run_action(instant_emulator, command="apply", **PUSH)
    assert (applied.outputs["exit-code"], applied.outputs["failed"]) == ("0", "false"), applied.log
    assert (
        f"Applying only the plan reviewed in https://github.test/acme/specs/pull/{PR_NUMBER}"
        in (applied.log)
    )
    assert "chat" in live(instant_emulator)


def test_a_branch_moved_after_review_is_not_deployed_and_the_run_says_why(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    _reviewed(tmp_path, instant_emulator, github, run_action)
    instant_emulator.move_branch("gpt2", "main")
    instant_emulator.clear_requests()
    applied = run_action(instant_emulator, command="apply", **PUSH)
    assert (applied.outputs["exit-code"], applied.outputs["failed"]) == ("1", "true")
    assert "this plan is not the one that was reviewed" in applied.log
    assert "get it reviewed" in applied.log
    assert mutations(instant_emulator) == []


def test_a_push_no_pull_request_merged_is_refused_unless_review_is_not_required(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    write_spec(tmp_path / "endpoints", "chat", namespace="acme")
    refused = run_action(instant_emulator, command="apply", **PUSH)
    assert (refused.outputs["exit-code"], refused.outputs["failed"]) == ("1", "true")
    assert "without a merged pull request (a direct push)" in refused.stdout
    assert "run the apply workflow by hand (workflow_dispatch)" in refused.stdout
    assert "not reviewed" in refused.summary or "direct push" in refused.summary
    assert mutations(instant_emulator) == []
    # Run by hand, or with the check turned off, it applies main as it is.
    dispatched = run_action(
        instant_emulator, command="apply", event={}, event_name="workflow_dispatch"
    )
    assert dispatched.outputs["exit-code"] == "0", dispatched.log
    assert "chat" in live(instant_emulator)


def test_a_comment_left_from_an_older_push_is_not_a_review_of_the_last_one(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    write_spec(tmp_path / "endpoints", "chat", namespace="acme")
    assert run_action(instant_emulator, command="plan").outputs["exit-code"] == "2"
    github.merge(PR_NUMBER, merge_commit_sha=HEAD_SHA, head_sha="f" * 40)  # a later push
    refused = run_action(instant_emulator, command="apply", **PUSH)
    assert refused.outputs["exit-code"] == "1"
    assert f"is for commit {HEAD_SHA[:12]}, but its last commit is {'f' * 12}" in refused.stdout
    assert mutations(instant_emulator) == []
    assert (
        run_action(instant_emulator, command="apply", require_review="false", **PUSH).outputs[
            "exit-code"
        ]
        == "0"
    )
