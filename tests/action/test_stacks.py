"""The action over a root of several stacks (`root:`): one pull-request comment with a section
per stack, each with the digest the merge's apply holds that stack to; a huge plan shortens
sections so that the comment stays under GitHub's 65,536 characters while every stack keeps its
heading and its digest; the apply on merge applies every stack, each to its own digest; drift
keeps one issue per stack."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.action.conftest import HEAD_SHA, PR_NUMBER, Run
from tests.action.fake_github import BOT, FakeGitHub
from tests.reconcile.helpers import live, mutations, write_spec

pytestmark = pytest.mark.slow

DIGEST = re.compile(r"<!-- provisioner-changes-digest: (sha256:[0-9a-f]{64}) -->")
FOLDERS = ("stacks/prod", "stacks/staging", "stacks/team-a")
PUSH = {"event": {"ref": "refs/heads/main"}, "event_name": "push"}


def _stacks(tmp_path: Path, specs: dict[str, list[str]]) -> None:
    for folder in FOLDERS:
        path = tmp_path / folder
        path.mkdir(parents=True)
        name = folder.split("/")[1]
        (path / "_settings.yaml").write_text(f"stack: {name}\nnamespace: acme\n")
        for spec in specs.get(folder, []):
            write_spec(path, spec, namespace="acme")


def _sections(body: str) -> dict[str, str]:
    parts = re.split(r"<!-- provisioner-stack: (\S+) -->\n", body)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_three_stacks_get_one_comment_with_three_sections_and_a_merge_applies_each(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    _stacks(tmp_path, {"stacks/prod": ["chat"], "stacks/team-a": ["summarizer"]})

    planned = run_action(instant_emulator, command="plan", root="stacks")

    assert (planned.outputs["exit-code"], planned.outputs["failed"]) == ("2", "false"), planned.log
    (comment,) = [c for c in github.comments(PR_NUMBER) if c["user"]["login"] == BOT]
    body = comment["body"]
    assert body.startswith("<!-- provisioner-plan -->\n<!-- root: stacks -->\n")
    assert len(body) <= 65_536
    sections = _sections(body)
    assert list(sections) == list(FOLDERS)
    assert "#### `stacks/prod`: changes to apply on merge" in sections["stacks/prod"]
    assert "acme/chat" in sections["stacks/prod"]
    assert "#### `stacks/staging`: no changes" in sections["stacks/staging"]
    assert "acme/summarizer" in sections["stacks/team-a"]
    assert all(DIGEST.search(s) for s in sections.values())
    assert Path(planned.outputs["plan-path"], "provisioner-plan-stacks-prod", "plan.json").is_file()
    for folder in FOLDERS:
        assert f"provisioner plan `{folder}`" in planned.summary

    # A second push edits the same comment.
    write_spec(tmp_path / "stacks" / "staging", "embed", namespace="acme")
    again = run_action(instant_emulator, command="plan", root="stacks")
    assert again.outputs["exit-code"] == "2"
    (edited,) = github.comments(PR_NUMBER)
    assert edited["id"] == comment["id"] and "acme/embed" in edited["body"]

    github.merge(PR_NUMBER, merge_commit_sha=HEAD_SHA, head_sha=HEAD_SHA)
    applied = run_action(instant_emulator, command="apply", root="stacks", **PUSH)

    assert (applied.outputs["exit-code"], applied.outputs["failed"]) == ("0", "false"), applied.log
    assert set(live(instant_emulator)) == {"chat", "embed", "summarizer"}
    digests = [DIGEST.search(s)[1] for s in _sections(edited["body"]).values()]  # type: ignore[index]
    for digest in digests:
        assert f"({digest})" in applied.log  # each stack held to its own section's digest


def test_a_stack_changed_after_review_is_refused_while_the_others_apply(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    _stacks(tmp_path, {"stacks/prod": ["chat"], "stacks/staging": ["embed"]})
    assert run_action(instant_emulator, command="plan", root="stacks").outputs["exit-code"] == "2"
    github.merge(PR_NUMBER, merge_commit_sha=HEAD_SHA, head_sha=HEAD_SHA)
    write_spec(tmp_path / "stacks" / "staging", "extra", namespace="acme")  # never reviewed

    applied = run_action(instant_emulator, command="apply", root="stacks", **PUSH)

    assert (applied.outputs["exit-code"], applied.outputs["failed"]) == ("1", "true")
    assert "this plan is not the one that was reviewed" in applied.log
    assert set(live(instant_emulator)) == {"chat"}


def test_a_huge_plan_keeps_the_comment_under_the_limit_with_every_stack_and_digest(
    tmp_path: Path,
    make_emulator: Callable[..., Emulator],
    github: FakeGitHub,
    run_action: Run,
) -> None:
    emulator = make_emulator(quotas={"*": {"aws": {"intel-spr": 10_000}}})
    many = [f"endpoint-{n:03d}" for n in range(110)]
    _stacks(tmp_path, {"stacks/prod": many, "stacks/staging": many, "stacks/team-a": ["chat"]})

    planned = run_action(emulator, command="plan", root="stacks")

    assert planned.outputs["exit-code"] == "2", planned.log
    (comment,) = github.comments(PR_NUMBER)
    body = comment["body"]
    assert 60_000 < len(body) <= 65_536
    sections = _sections(body)
    assert list(sections) == list(FOLDERS)
    assert all(DIGEST.search(s) for s in sections.values())
    assert all(f"#### `{f}`: changes to apply on merge" in sections[f] for f in FOLDERS)
    shortened = [f for f, s in sections.items() if "is too long for this comment" in s]
    assert shortened and "stacks/team-a" not in shortened
    assert "acme/chat" in sections["stacks/team-a"]
    assert "provisioner-plan-stacks" in sections[shortened[0]]
    # The job summary still has every stack's whole plan.
    assert planned.summary.count("`acme/endpoint-099`") >= 2
    assert mutations(emulator) == []


def test_a_root_with_two_stacks_of_one_name_fails_with_both_files_in_the_comment(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    _stacks(tmp_path, {})
    (tmp_path / "stacks" / "team-a" / "_settings.yaml").write_text("stack: prod\n")

    planned = run_action(emulator, command="plan", root="stacks")

    assert (planned.outputs["exit-code"], planned.outputs["failed"]) == ("1", "true")
    (comment,) = github.comments(PR_NUMBER)
    assert "stacks/team-a/_settings.yaml" in comment["body"]
    assert "stacks/prod/_settings.yaml" in comment["body"]


def test_drift_over_a_root_keeps_one_issue_per_stack(
    tmp_path: Path, emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    _stacks(tmp_path, {"stacks/prod": ["chat"], "stacks/team-a": ["summarizer"]})

    found = run_action(emulator, command="drift", root="stacks", event={}, event_name="schedule")

    assert (found.outputs["exit-code"], found.outputs["failed"]) == ("2", "true"), found.log
    titles = sorted(issue["title"] for issue in github.issues())
    assert titles == [
        "provisioner: the live endpoints of `stacks/prod` differ from the specs",
        "provisioner: the live endpoints of `stacks/team-a` differ from the specs",
    ]
