"""A team's repository is the test: the tool as a team gets it, outside this checkout.

The sdist and the wheel are built as the release workflow builds them (`python -m build`), pass
the index's metadata check (`twine check --strict`), and the wheel is installed into a fresh
virtualenv in a temporary folder. From there, in an empty git repository that holds nothing but
what `provisioner init` writes: `--version`, `init`, `validate`, `plan` and `apply` against the
emulator the wheel ships, and the GitHub Action's script, with nothing of this checkout on the
path.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from provisioner import DISTRIBUTION, __version__
from tests.action.conftest import HEAD_SHA, PR_NUMBER, pull_request_event, read_outputs
from tests.action.fake_github import FakeGitHub

CHECKOUT = Path(__file__).resolve().parents[1]

# Building and installing take a minute or two on a loaded 2-core machine (pip resolves the
# dependencies from its cache or the index); nothing here waits on a clock of its own.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _run(
    command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: none of this checkout's Python on any path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "PROVISIONER_", "HF_", "PYTEST"))
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(CHECKOUT))
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path
    log: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    done = _run([sys.executable, "-m", "build", "--outdir", str(out), str(CHECKOUT)], cwd=out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Built(wheel, sdist, done.stdout + done.stderr)


def test_the_distribution_is_ours_builds_without_warnings_and_passes_twine_check(
    built: Built,
) -> None:
    assert built.wheel.name == f"hf_endpoints_provisioner-{__version__}-py3-none-any.whl"
    assert built.sdist.name == f"hf_endpoints_provisioner-{__version__}.tar.gz"
    # setuptools' deprecation of the `license` table (and any other) is gone.
    assert "Deprecat" not in built.log, built.log[-3000:]
    checked = _run(
        [sys.executable, "-m", "twine", "check", "--strict", str(built.wheel), str(built.sdist)],
        cwd=built.wheel.parent,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"hf_endpoints_provisioner-{__version__}.dist-info/METADATA").decode()
    assert f"Name: {DISTRIBUTION}\n" in metadata and f"Version: {__version__}\n" in metadata
    assert "License-Expression: Apache-2.0\n" in metadata
    assert "Provides-Extra: s3\n" in metadata
    # What a team installs (no extra, or `[s3]`) brings none of the dev extra's tools.
    installs = [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and 'extra == "dev"' not in line
    ]
    assert installs and not any(re.search(r"pytest|mypy|ruff|moto|mutmut", i) for i in installs)
    # What the installed tool reads at run time is in the wheel.
    for data in (
        "provisioner/spec/endpoint.schema.json",
        "provisioner/spec/settings.schema.json",
        "provisioner/plan/plan.schema.json",
        "provisioner/emulator/hardware.json",
        "provisioner/emulator/README.md",  # `provisioner emulator --readme`
    ):
        assert data in names, data


@dataclass(frozen=True)
class Installed:
    bin: Path
    env: dict[str, str]

    def run(self, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
        return _run([str(self.bin / "provisioner"), *args], cwd=cwd, env={**self.env, **env})


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel in a fresh virtualenv outside the checkout, as `pip install` gives it."""
    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    env = _clean_env(HOME=str(home))
    made = _run([sys.executable, "-m", "venv", str(venv)], cwd=home, env=env)
    assert made.returncode == 0, made.stderr
    pip = _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{built.wheel}[s3]"],
        cwd=home,
        env=env,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return Installed(venv / "bin", env)


def test_the_installed_tool_is_the_wheel_not_this_checkout(
    installed: Installed, tmp_path: Path
) -> None:
    version = installed.run("--version", cwd=tmp_path)
    assert (version.returncode, version.stdout.strip()) == (
        0,
        f"provisioner {__version__} (the {DISTRIBUTION} package)",
    )
    where = _run(
        [str(installed.bin / "python"), "-c", "import provisioner; print(provisioner.__file__)"],
        cwd=tmp_path,
        env=installed.env,
    )
    assert where.returncode == 0, where.stderr
    assert not where.stdout.strip().startswith(str(CHECKOUT))
    assert where.stdout.strip().startswith(str(installed.bin.parent))
    # The emulator's reference comes with it, read from the installed package.
    readme = installed.run("emulator", "--readme", cwd=tmp_path)
    assert readme.returncode == 0, readme.stderr
    assert readme.stdout.startswith("# `provisioner.emulator`: ")
    # No dev tool came with it.
    assert not (installed.bin / "pytest").exists()
    assert not (installed.bin / "mutmut").exists()


@pytest.fixture
def emulator_url(installed: Installed, tmp_path: Path) -> Iterator[str]:
    """The emulator the wheel ships, as a user starts it (`provisioner emulator`)."""
    process = subprocess.Popen(
        [str(installed.bin / "provisioner"), "emulator", "--port", "0", "--speed", "50"],
        cwd=tmp_path,
        env=installed.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url), url
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _git(repo: Path, *args: str) -> None:
    done = _run(["git", *args], cwd=repo)
    assert done.returncode == 0, done.stderr


def test_a_team_gets_from_an_empty_repository_to_an_applied_stack(
    installed: Installed, emulator_url: str, tmp_path: Path
) -> None:
    repo = tmp_path / "specs"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "team@example.com")
    _git(repo, "config", "user.name", "team")

    init = installed.run("init", "--namespace", "acme", cwd=repo)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "Traceback" not in init.stderr
    # Everything a team needs is now in its repository, nothing copied by hand.
    for path in (
        "endpoints/_settings.yaml",
        ".pre-commit-config.yaml",
        ".gitignore",
        ".github/workflows/provisioner-plan.yml",
        ".github/workflows/provisioner-apply.yml",
    ):
        assert (repo / path).is_file(), (path, init.stdout)
    workflows = "\n".join(p.read_text() for p in (repo / ".github" / "workflows").glob("*.yml"))
    assert "make " not in workflows and "[dev]" not in workflows
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "provisioner init")

    validated = installed.run("validate", cwd=repo)
    assert validated.returncode == 0, validated.stdout + validated.stderr

    api = {"PROVISIONER_API_URL": emulator_url, "HF_TOKEN": "hf_demo"}
    planned = installed.run("plan", "--detailed-exitcode", "--out", "plan.json", cwd=repo, **api)
    assert planned.returncode == 2, planned.stdout + planned.stderr
    assert "google/flan-t5-base" in planned.stdout
    assert json.loads((repo / "plan.json").read_text())["provisioner_version"] == __version__

    applied = installed.run("apply", "plan.json", "--auto-approve", cwd=repo, **api)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete" in applied.stdout + applied.stderr

    again = installed.run("plan", "--detailed-exitcode", cwd=repo, **api)
    assert again.returncode == 0, again.stdout + again.stderr
    # The local state and the saved plan stay out of git, as init's .gitignore says.
    status = _run(["git", "status", "--porcelain"], cwd=repo)
    assert status.stdout == "", status.stdout


def _initialised(installed: Installed, tmp_path: Path) -> Path:
    repo = tmp_path / "specs"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    init = installed.run("init", "--namespace", "acme", cwd=repo)
    assert init.returncode == 0, init.stdout + init.stderr
    return repo


def test_the_action_s_script_from_the_wheel_comments_the_plan_then_applies_on_merge(
    installed: Installed, emulator_url: str, tmp_path: Path
) -> None:
    """What the workflows init wrote do on GitHub, step by step: the Action's script (from the
    wheel, as action.yml runs it) plans a pull request into one comment, then applies on merge."""
    repo = _initialised(installed, tmp_path)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    with FakeGitHub("acme/specs") as github:

        def action(command: str, event_name: str, event: dict[str, Any]) -> dict[str, str]:
            call = tmp_path / f"{command}-{event_name}"
            call.mkdir()
            (call / "event.json").write_text(json.dumps(event))
            env = {
                **installed.env,
                "GITHUB_OUTPUT": str(call / "output"),
                "GITHUB_STEP_SUMMARY": str(call / "summary.md"),
                "GITHUB_EVENT_PATH": str(call / "event.json"),
                "GITHUB_EVENT_NAME": event_name,
                "GITHUB_REPOSITORY": "acme/specs",
                "GITHUB_SERVER_URL": "https://github.test",
                "GITHUB_API_URL": github.url,
                "GITHUB_RUN_ID": "1",
                "GITHUB_SHA": "0" * 40,
                "GITHUB_WORKSPACE": str(repo),
                "RUNNER_TEMP": str(runner_temp),
                "INPUT_COMMAND": command,
                "INPUT_DIR": "endpoints",
                "INPUT_HF_TOKEN": "hf_demo",
                "INPUT_GITHUB_TOKEN": "ghs_fakeGitHubToken0123456789",
                "INPUT_API_URL": emulator_url,
                "INPUT_COMMENT": "true",
            }
            done = _run(
                [str(installed.bin / "python"), "-m", "provisioner.action"], cwd=repo, env=env
            )
            assert done.returncode == 0, done.stdout + done.stderr
            outputs = read_outputs(call / "output")
            outputs["summary"] = (call / "summary.md").read_text()
            outputs["log"] = done.stdout + done.stderr
            return outputs

        planned = action("plan", "pull_request", pull_request_event())
        assert (planned["exit-code"], planned["has-changes"]) == ("2", "true")
        assert Path(planned["plan-path"]).is_file()
        (comment,) = github.comments(PR_NUMBER)
        assert comment["body"].startswith("<!-- provisioner-plan -->")
        assert "google/flan-t5-base" in comment["body"]
        assert "google/flan-t5-base" in planned["summary"]

        # Merged: the push's apply holds its plan to the digest the comment showed.
        github.merge(PR_NUMBER, merge_commit_sha="0" * 40, head_sha=HEAD_SHA)
        applied = action("apply", "push", {"ref": "refs/heads/main"})
        assert applied["exit-code"] == "0", applied
        assert "Applying only the plan reviewed in" in applied["log"]
        drift = action("drift", "schedule", {})
        assert (drift["exit-code"], drift["has-changes"]) == ("0", "false")
        assert github.issues() == []


def _dev_tool(name: str) -> str:
    """A checker of the dev extra (beside this Python): what a team would run in its own CI."""
    tool = Path(sys.executable).parent / name
    if not tool.is_file():
        pytest.fail(f"{name} is not installed: `pip install -e '.[dev]'`")
    return str(tool)


def test_what_init_writes_passes_zizmor_and_actionlint_in_the_team_s_repository(
    installed: Installed, tmp_path: Path
) -> None:
    repo = _initialised(installed, tmp_path)
    assert installed.run("init", "--schedules", cwd=repo).returncode == 0
    # zizmor finds the policy init wrote (.github/zizmor.yml) by itself, as in the team's CI.
    audited = _run(
        [_dev_tool("zizmor"), "--offline", "--no-progress", "--color=never", "."], cwd=repo
    )
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "No findings to report" in audited.stdout + audited.stderr
    linted = _run(
        [
            _dev_tool("actionlint"),
            "-no-color",
            f"-shellcheck={_dev_tool('shellcheck')}",
        ],
        cwd=repo,
    )
    assert (linted.returncode, linted.stdout + linted.stderr) == (0, "")


def _console_blocks(section: str) -> list[list[str]]:
    """The commands of each ```console block of the README's `section`, comments dropped."""
    readme = (CHECKOUT / "README.md").read_text()
    start = readme.index(f"\n## {section}\n")
    end = readme.index("\n## ", start + 1)
    blocks = re.findall(r"```console\n(.*?)```", readme[start:end], flags=re.DOTALL)
    return [
        [line.split("  #")[0].rstrip() for line in block.splitlines() if line.strip()]
        for block in blocks
    ]


def test_the_readme_s_adopt_section_works_as_printed(installed: Installed, tmp_path: Path) -> None:
    """The commands of "Adopt it in your repository", run as printed in a shell whose
    `provisioner` is the installed wheel. Two stand-ins, said here: the install line installs
    the wheel just built (the release is not on the index yet), and the emulator listens on a
    free port instead of 8790 (the same text, another number)."""
    setup, trial = _console_blocks("Adopt it in your repository")
    assert setup[0] == "pip install 'hf-endpoints-provisioner[s3]'"
    assert trial[1].startswith("provisioner emulator --config emulator.json &")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    script = "\n".join(
        [
            "set -euo pipefail",
            f'export PATH="{installed.bin}:$PATH"',
            "mkdir my-endpoints && git -C my-endpoints init -q",
            *setup[1:],
            *(line.replace("8790", port) for line in trial),
        ]
    )
    script = script.replace(
        "provisioner emulator --config emulator.json &",
        f"provisioner emulator --config emulator.json --port {port} --speed 50 > emulator.log &"
        "\nEMULATOR=$!; trap 'kill $EMULATOR' EXIT"
        f"\nfor _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:{port}/ && break;"
        " sleep 0.1; done",
    )
    done = _run(["bash", "-c", script], cwd=tmp_path, env=installed.env)
    assert done.returncode == 0, script + "\n" + done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "endpoints: 1 endpoint spec valid (stack 'my-endpoints')" in out
    assert "+ my-org/flan-t5-base: create" in out
    assert "Apply complete: 1 created." in out
    assert "my-org/flan-t5-base  running" in out
