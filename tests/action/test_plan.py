"""`command: plan` on a pull request: validate, plan, the job summary, one sticky comment, the
outputs; forks get validate only; a bad spec fails with its file:line:col in the comment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.action.conftest import HEAD_SHA, PR_NUMBER, Run, pull_request_event
from tests.action.fake_github import BOT, FakeGitHub
from tests.reconcile.helpers import write_spec

pytestmark = pytest.mark.slow  # each test starts the action, which starts the CLI

MARKER = "<!-- provisioner-plan -->"


def _specs(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "endpoints"
    for name in names:
        write_spec(folder, name, namespace="acme")
    return folder


def test_a_plan_with_changes_passes_and_keeps_one_comment_updated_on_every_push(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    specs = _specs(tmp_path, "chat")
    # Someone quoting the marker, and more comments than one page: neither confuses the lookup.
    github.add_comment(PR_NUMBER, f"{MARKER}\nquoted by a person", login="alice")
    for n in range(3):
        github.add_comment(PR_NUMBER, f"review comment {n}", login="bob")

    first = run_action(emulator, command="plan")

    assert first.code == 0, first.log
    assert first.outputs["exit-code"] == "2"
    assert first.outputs["has-changes"] == "true"
    assert first.outputs["failed"] == "false"
    saved = Path(first.outputs["plan-path"])
    assert saved.is_absolute() and saved.is_file()
    assert json.loads(saved.read_text())["changes"][0]["address"] == "acme/chat"
    assert Path(first.outputs["markdown-path"]).read_text().strip()
    assert first.outputs["artifact-name"] == "provisioner-plan"
    assert "provisioner plan `endpoints`: changes to apply on merge" in first.summary
    assert "acme/chat" in first.summary

    ours = [c for c in github.comments(PR_NUMBER) if c["user"]["login"] == BOT]
    assert len(ours) == 1
    body = ours[0]["body"]
    assert body.startswith(f"{MARKER}\n<!-- dir: endpoints -->\n")
    assert "changes to apply on merge" in body
    assert "acme/chat" in body and "create" in body.lower()
    assert HEAD_SHA in body and "https://github.test/acme/specs/actions/runs/4242" in body
    assert first.outputs["comment-url"] == ours[0]["html_url"]
    assert len(body) <= 65_536

    # The next push: a second endpoint. The same comment is edited, no new one appears.
    write_spec(specs, "summarizer", namespace="acme")
    second = run_action(emulator, command="plan")

    assert second.outputs["exit-code"] == "2"
    ours_now = [c for c in github.comments(PR_NUMBER) if c["user"]["login"] == BOT]
    assert [c["id"] for c in ours_now] == [ours[0]["id"]]
    assert "acme/summarizer" in ours_now[0]["body"]
    assert len(github.requests("POST")) == 1
    assert [r.path for r in github.requests("PATCH")] == [
        f"/repos/acme/specs/issues/comments/{ours[0]['id']}"
    ]
    # The comment lookup followed the pages (2 per page here) and sent the token in a header.
    listed = [r for r in github.requests("GET") if r.path.endswith("/comments")]
    assert len(listed) >= 3
    assert {r.authorization for r in github.requests()} == {"Bearer ghs_fakeGitHubToken0123456789"}
    assert "ghs_fakeGitHubToken0123456789" not in first.log + second.log


def test_no_changes_is_a_passing_plan_with_its_own_verdict(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    specs = tmp_path / "endpoints"
    specs.mkdir()

    run = run_action(emulator, command="plan")

    assert (run.outputs["exit-code"], run.outputs["has-changes"]) == ("0", "false")
    assert run.outputs["failed"] == "false"
    assert ": no changes" in run.summary
    (comment,) = github.comments(PR_NUMBER)
    heading = next(line for line in comment["body"].splitlines() if line.startswith("###"))
    assert heading == "### provisioner plan `endpoints`: no changes"
    # Even "no changes" was reviewed: the merge's apply holds the plan to it.
    assert "<!-- provisioner-changes-digest: sha256:" in comment["body"]


def test_a_bad_spec_fails_with_its_location_in_the_comment_and_no_plan(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme", compute={"instance_size": "x9"})

    run = run_action(emulator, command="plan")

    assert run.outputs["exit-code"] == "1"
    assert run.outputs["failed"] == "true"
    assert run.outputs["plan-path"] == ""
    assert "::error title=plan failed::" in run.stdout
    (comment,) = github.comments(PR_NUMBER)
    body = comment["body"]
    assert "errors: nothing will be applied until they are fixed" in body
    assert "endpoints/chat.yaml:10:18: error: compute.instance_size:" in body
    assert "```" in body
    assert "endpoints/chat.yaml:10:18: error: compute.instance_size:" in run.summary


def test_a_fork_gets_validate_only_a_notice_and_no_comment(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    _specs(tmp_path, "chat")

    run = run_action(emulator, command="plan", event=pull_request_event(fork=True))

    assert run.outputs["exit-code"] == "0"
    assert run.outputs["failed"] == "false"
    assert run.outputs["plan-path"] == ""
    assert "::notice title=plan skipped::pull requests from forks get no secrets" in run.stdout
    assert "Plan skipped" in run.summary
    assert github.requests() == []
    assert not (tmp_path / "runner-temp" / "provisioner").exists()
    assert not [r for r in emulator.requests() if r["path"].startswith("/v2/")]


def test_a_push_event_plans_into_the_summary_without_a_comment(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    _specs(tmp_path, "chat")

    run = run_action(emulator, command="plan", event={}, event_name="push")

    assert run.outputs["exit-code"] == "2"
    assert "acme/chat" in run.summary
    assert github.requests() == []
