"""The `provisioner-validate` hook of `.pre-commit-hooks.yaml`, run as a user's pre-commit runs it.

`pre-commit try-repo` installs this repository into pre-commit's own virtualenv (pip, from the
index for the dependencies) and runs the hook in a specs repository made by `provisioner init`.
try-repo of a local path takes the repository's HEAD (or a shadow commit of uncommitted
changes), so the test copies the working tree as it is into a fresh git repository first: what
is tested is what is on disk, not the last commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]

# What a checkout holds that a published repository does not (and that would only slow the copy).
_NOT_PUBLISHED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.egg-info",
    ".*_cache",
    ".hypothesis",
    "mutants",
    "build",
    "dist",
    "acceptance-report.md",
)

PROVISIONER = Path(sys.executable).parent / "provisioner"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def _repository(path: Path) -> Path:
    _git(path, "init", "-q", "-b", "main")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "snapshot")
    return path


def _try_repo(
    hooks: Path, specs: Path, env: dict[str, str], *files: str
) -> subprocess.CompletedProcess[str]:
    which = ["--files", *files] if files else ["--all-files"]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pre_commit",
            "try-repo",
            str(hooks),
            "provisioner-validate",
            *which,
            "--color",
            "never",
        ],
        cwd=specs,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_hook_passes_what_init_wrote_and_reports_a_broken_spec_with_its_position(
    tmp_path: Path,
) -> None:
    hooks = tmp_path / "provisioner"
    shutil.copytree(CHECKOUT, hooks, ignore=_NOT_PUBLISHED)
    _repository(hooks)

    # A specs repository as a user starts one: `provisioner init`, committed.
    specs = tmp_path / "specs"
    subprocess.run(
        [str(PROVISIONER), "init", str(specs), "--namespace", "acme"],
        check=True,
        capture_output=True,
    )
    _repository(specs)

    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        # The commit try-repo makes in its own scratch clone needs an identity on a bare machine.
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    passed = _try_repo(hooks, specs, env)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "provisioner validate" in passed.stdout
    assert "Passed" in passed.stdout

    starter = specs / "endpoints" / "flan-t5-base.yaml"
    lines = starter.read_text().splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if "instance_size:" in line)
    column = lines[row].index("x2") + 1
    lines[row] = lines[row].replace("x2", "huge")
    starter.write_text("".join(lines))
    _git(specs, "commit", "-q", "-am", "break it")
    failed = _try_repo(hooks, specs, env)
    assert failed.returncode != 0, failed.stdout
    assert "Failed" in failed.stdout
    where = f"endpoints/flan-t5-base.yaml:{row + 1}:{column}: error: compute.instance_size: "
    assert where in failed.stdout, failed.stdout
    assert "huge" in failed.stdout

    # The files a commit changes are what the hook checks: another YAML file alone passes,
    # the broken spec alone fails.
    other = _try_repo(hooks, specs, env, ".pre-commit-config.yaml")
    assert other.returncode == 0, other.stdout + other.stderr
    alone = _try_repo(hooks, specs, env, "endpoints/flan-t5-base.yaml")
    assert alone.returncode != 0 and where in alone.stdout, alone.stdout
