"""The harness: `python -m provisioner.action` as action.yml runs it (a subprocess of this venv's
Python, inputs as `INPUT_*`), with the runner's files in `tmp_path`, GitHub's REST API served by
`FakeGitHub` and the Inference Endpoints API by the real emulator (its URL is the `api-url`
input). A test reads what a user would: the step's outputs, the job summary, the log, the
comment on the pull request, the issues."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Durations, Emulator
from tests.action.fake_github import FakeGitHub
from tests.support import FIXED_NOW

REPOSITORY = "acme/specs"
PR_NUMBER = 7
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"

# Everything happens at once in (frozen) emulated time, so an apply's wait returns at once.
INSTANT = Durations(
    pending=0, initializing=0, updating=0, resume=0, scale_up=0, delete_grace=0, name_reserved=0
)


def pull_request_event(*, fork: bool = False) -> dict[str, Any]:
    head = "someone/specs" if fork else REPOSITORY
    return {
        "action": "synchronize",
        "number": PR_NUMBER,
        "pull_request": {
            "number": PR_NUMBER,
            "head": {"sha": HEAD_SHA, "repo": {"full_name": head}},
            "base": {"ref": "main", "repo": {"full_name": REPOSITORY}},
        },
    }


@dataclass(frozen=True)
class ActionRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str

    @property
    def log(self) -> str:
        return self.stdout + self.stderr


def read_outputs(path: Path) -> dict[str, str]:
    """`$GITHUB_OUTPUT` as the runner reads it: `name=value` or `name<<DELIMITER` blocks."""
    outputs: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            outputs[name] = "\n".join(lines[index + 1 : end])
            index = end + 1
        else:
            name, value = line.split("=", 1)
            outputs[name] = value
            index += 1
    return outputs


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(REPOSITORY) as fake:
        yield fake


@pytest.fixture
def instant_emulator(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator(durations=INSTANT)


Run = Callable[..., ActionRun]


@pytest.fixture
def run_action(tmp_path: Path, github: FakeGitHub) -> Run:
    """`run_action(emulator, command="plan", directory="endpoints", event=..., **inputs)`, in
    `tmp_path` (the workspace, so `directory` is relative to it, as in a workflow); each call
    has its own output and summary files; the runner's temp folder is shared (as in one job).
    `env` adds what action.yml's step gives beside the inputs (`XDG_STATE_HOME` ...)."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    hf_home = tmp_path / "hf-home"
    hf_home.mkdir()
    calls = iter(range(1, 1000))

    def run(
        emulator: Emulator,
        *,
        command: str,
        directory: str = "endpoints",
        event: dict[str, Any] | None = None,
        event_name: str = "pull_request",
        env: Mapping[str, str] | None = None,
        **inputs: str,
    ) -> ActionRun:
        call = tmp_path / f"call-{next(calls)}"
        call.mkdir()
        event_file = call / "event.json"
        event_file.write_text(json.dumps(event if event is not None else pull_request_event()))
        drop = ("HF_", "PROVISIONER_", "GITHUB_", "INPUT_", "RUNNER_")
        environ = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        environ.update(
            HF_HOME=str(hf_home),
            HF_HUB_DISABLE_UPDATE_CHECK="1",
            HF_HUB_DISABLE_TELEMETRY="1",
            PROVISIONER_NOW=FIXED_NOW,
            GITHUB_OUTPUT=str(call / "output"),
            GITHUB_STEP_SUMMARY=str(call / "summary.md"),
            GITHUB_EVENT_PATH=str(event_file),
            GITHUB_EVENT_NAME=event_name,
            GITHUB_REPOSITORY=REPOSITORY,
            GITHUB_SERVER_URL="https://github.test",
            GITHUB_API_URL=github.url,
            GITHUB_RUN_ID="4242",
            GITHUB_SHA=HEAD_SHA,
            GITHUB_REF_NAME="main",
            GITHUB_WORKSPACE=str(tmp_path),
            RUNNER_TEMP=str(runner_temp),
            INPUT_COMMAND=command,
            INPUT_DIR=directory,
            INPUT_HF_TOKEN="hf_demo",
            INPUT_GITHUB_TOKEN="ghs_fakeGitHubToken0123456789",
            INPUT_API_URL=emulator.url,
            INPUT_COMMENT="true",
        )
        environ.update({f"INPUT_{name.upper()}": value for name, value in inputs.items()})
        environ.update(env or {})
        done = subprocess.run(
            [sys.executable, "-m", "provisioner.action"],
            env=environ,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=100,
            check=False,
        )
        summary = call / "summary.md"
        return ActionRun(
            code=done.returncode,
            stdout=done.stdout,
            stderr=done.stderr,
            outputs=read_outputs(call / "output"),
            summary=summary.read_text() if summary.exists() else "",
        )

    return run
