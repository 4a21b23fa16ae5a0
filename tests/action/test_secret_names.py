"""A pull request that adds a `from_env` secret, with no workflow edited: its plan job has no
secret values, so it learns from the names the apply side recorded in the state whether the
apply on merge will find the value. Until the secret is added there (and recorded), the plan's
check fails at the spec line that asks for it; then it passes, and the merge applies it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.action.conftest import HEAD_SHA, PR_NUMBER, Run
from tests.action.fake_github import FakeGitHub
from tests.reconcile.helpers import live, write_spec

pytestmark = pytest.mark.slow

VALUE = "coder-canary-value-Zq81-never-print"
PUSH = {"event": {"ref": "refs/heads/main"}, "event_name": "push"}


def test_a_pr_adding_a_secret_fails_its_check_until_the_apply_side_has_it(
    tmp_path: Path, instant_emulator: Emulator, github: FakeGitHub, run_action: Run
) -> None:
    secrets = {"API_KEY": {"from_env": "TEAM_CODER_KEY"}}
    spec = write_spec(tmp_path / "endpoints", "coder", namespace="acme", model={"secrets": secrets})
    lines = spec.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "from_env: TEAM_CODER_KEY" in text)

    # The pull request's plan: no secret values (the plan job gets none), nothing recorded.
    refused = run_action(instant_emulator, command="plan")
    assert (refused.outputs["exit-code"], refused.outputs["failed"]) == ("1", "true"), refused.log
    assert f"endpoints/coder.yaml:{line}:" in refused.log
    assert "error: acme/coder: apply will refuse this create until TEAM_CODER_KEY is set" in (
        refused.log
    )

    # Someone adds the repository secret; the apply side records its name, applying nothing.
    given = json.dumps({"TEAM_CODER_KEY": VALUE})
    recorded = run_action(instant_emulator, command="record-secrets", secrets=given, **PUSH)
    assert recorded.outputs["failed"] == "false", recorded.log
    assert "TEAM_CODER_KEY" in recorded.log
    assert live(instant_emulator) == {}
    state = (tmp_path / "endpoints" / ".provisioner").rglob("state.json")
    (written,) = (p.read_text() for p in state)
    assert '"TEAM_CODER_KEY"' in written and VALUE not in written

    # The same pull request's plan, re-run: the check passes, and the merge applies it.
    passed = run_action(instant_emulator, command="plan")
    assert (passed.outputs["exit-code"], passed.outputs["failed"]) == ("2", "false"), passed.log
    assert "the apply side has it" in passed.log
    github.merge(PR_NUMBER, merge_commit_sha=HEAD_SHA, head_sha=HEAD_SHA)
    applied = run_action(instant_emulator, command="apply", secrets=given, **PUSH)
    assert applied.outputs["exit-code"] == "0", applied.log
    assert "coder" in live(instant_emulator)
    for run in (refused, recorded, passed, applied):
        assert VALUE not in run.log.replace(f"::add-mask::{VALUE}", "")
