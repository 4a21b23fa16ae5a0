"""The `secrets` input: one JSON object holding the values of the specs' `from_env` secrets. Each
value is masked (`::add-mask::`) before anything else is printed, reaches the CLI (a plan does
not warn that it is unset; an apply, which refuses without it, succeeds), and appears nowhere a
user could read it: the log, the summary, the comment, the saved plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.action.conftest import HEAD_SHA, PR_NUMBER, Run
from tests.action.fake_github import FakeGitHub
from tests.reconcile.helpers import write_spec

pytestmark = pytest.mark.slow

SECRET = "canary-secret-Q7T4-never-print-me"
SECOND = "second-canary-9Zq"
MULTILINE = "first-line-canary-Xa1\nsecond-line-canary-Xa2"


def test_every_secret_value_is_masked_given_to_provisioner_and_printed_nowhere(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    secrets = {"API_KEY": {"from_env": "SUPPORT_API_KEY"}, "PEM": {"from_env": "SUPPORT_PEM"}}
    write_spec(tmp_path / "endpoints", "support", namespace="acme", model={"secrets": secrets})
    given = json.dumps({"SUPPORT_API_KEY": SECRET, "SUPPORT_PEM": MULTILINE, "UNUSED": SECOND})

    plan = run_action(instant_emulator, command="plan", secrets=given)
    github.merge(PR_NUMBER, merge_commit_sha=HEAD_SHA, head_sha=HEAD_SHA)
    push = {"event": {}, "event_name": "push"}
    apply = run_action(instant_emulator, command="apply", secrets=given, **push)

    assert plan.outputs["exit-code"] == "2", plan.log
    assert "apply will refuse until" not in plan.log + plan.summary
    assert apply.outputs["exit-code"] == "0", apply.log
    for run in (plan, apply):
        masks = [line for line in run.stdout.splitlines() if line.startswith("::add-mask::")]
        for value in (SECRET, SECOND, *MULTILINE.splitlines()):
            assert f"::add-mask::{value}" in masks
        # Masked first: the first lines the runner reads are the masks.
        assert run.stdout.splitlines()[: len(masks)] == masks
    readable = [
        *(line for run in (plan, apply) for line in run.log.splitlines() if "add-mask" not in line),
        plan.summary,
        apply.summary,
        *(c["body"] for c in github.comments(PR_NUMBER)),
        Path(plan.outputs["plan-path"]).read_text(),
        Path(plan.outputs["markdown-path"]).read_text(),
    ]
    for text in readable:
        for value in (SECRET, SECOND, *MULTILINE.splitlines()):
            assert value not in text
