"""The `hf endpoints` CLI of huggingface_hub, unchanged, as a subprocess against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from provisioner.emulator import Emulator
from tests.support import HF_CLI
from tests.support.hub import RESUME_TO_RUNNING, TO_RUNNING, UPDATING

Env = Callable[[Emulator], dict[str, str]]

# Each test runs the `hf` CLI as a process.
pytestmark = pytest.mark.slow


def hf(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HF_CLI), *args],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def hf_json(env: dict[str, str], *args: str) -> Any:
    done = hf(env, *args, "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


DEPLOY = [
    "endpoints",
    "deploy",
    "my-ep",
    "--repo",
    "gpt2",
    "--framework",
    "pytorch",
    "--accelerator",
    "cpu",
    "--instance-size",
    "x2",
    "--instance-type",
    "intel-spr",
    "--region",
    "us-east-1",
    "--vendor",
    "aws",
    "--namespace",
    "demo",
]
NS = ["--namespace", "demo"]


def test_the_whole_lifecycle_through_hf_endpoints(emulator: Emulator, hf_cli_env: Env) -> None:
    env = hf_cli_env(emulator)
    created = hf_json(
        env, *DEPLOY, "--task", "text-generation", "--env", "A=1", "--secrets", "S=hidden-value"
    )
    assert created["status"]["state"] == "pending"
    assert created["model"]["secrets"] == {"S": "configured"}

    listed = hf_json(env, "endpoints", "ls", *NS)
    assert [(r["name"], r["status"], r["instance"]) for r in listed] == [
        ("my-ep", "pending", "intel-spr")
    ]
    emulator.advance(TO_RUNNING)
    described = hf_json(env, "endpoints", "describe", "my-ep", *NS)
    assert described["status"]["state"] == "running"
    assert described["status"]["url"] == f"{emulator.url}/endpoints/demo/my-ep"

    updated = hf_json(
        env,
        "endpoints",
        "update",
        "my-ep",
        *NS,
        "--max-replica",
        "2",
        "--container-args",
        "--foo bar",
    )
    assert updated["status"]["state"] == "updating"
    assert updated["compute"]["scaling"]["maxReplica"] == 2
    assert updated["model"]["args"] == ["--foo", "bar"]
    emulator.advance(UPDATING)

    assert hf_json(env, "endpoints", "pause", "my-ep", *NS)["status"]["state"] == "paused"
    assert hf_json(env, "endpoints", "resume", "my-ep", *NS)["status"]["state"] == "pending"
    emulator.advance(RESUME_TO_RUNNING)
    # Resuming a running endpoint is fine for the CLI (running_ok) unless told otherwise.
    assert hf_json(env, "endpoints", "resume", "my-ep", *NS)["status"]["state"] == "running"
    strict = hf(env, "endpoints", "resume", "my-ep", *NS, "--fail-if-already-running")
    assert strict.returncode != 0 and "already running" in strict.stderr

    zero = hf_json(env, "endpoints", "scale-to-zero", "my-ep", *NS)
    assert zero["status"]["state"] == "scaledToZero" and "url" in zero["status"]

    deleted = hf(env, "endpoints", "delete", "my-ep", *NS, "--yes")
    assert deleted.returncode == 0, deleted.stderr
    emulator.advance(1)
    assert hf_json(env, "endpoints", "ls", *NS) == []
    assert "hidden-value" not in str(emulator.requests())


def test_errors_reach_the_cli_user_with_the_service_message(
    emulator: Emulator, hf_cli_env: Env
) -> None:
    env = hf_cli_env(emulator)
    missing = hf(env, "endpoints", "describe", "nope", *NS)
    assert missing.returncode == 404 % 256
    assert "Endpoint 'nope' not found" in missing.stderr
    bad_name = hf(env, *[("My_Ep" if a == "my-ep" else a) for a in DEPLOY])
    assert bad_name.returncode != 0
    assert "name: invalid value" in bad_name.stderr
    bad_hw = hf(env, *[("c6i" if a == "intel-spr" else a) for a in DEPLOY])
    assert "Instance compute 'Cpu' - 'c6i' - 'x2' in 'aws' - 'us-east-1' not found" in bad_hw.stderr


def test_a_bad_token_is_refused(emulator: Emulator, hf_cli_env: Env) -> None:
    done = hf(hf_cli_env(emulator, "hf_wrong"), "endpoints", "ls", *NS)
    assert done.returncode == 401 % 256
    assert "401" in done.stderr


def test_hardware_listing(emulator: Emulator, hf_cli_env: Env) -> None:
    rows = hf_json(
        hf_cli_env(emulator),
        "endpoints",
        "hardware",
        *NS,
        "--vendor",
        "aws",
        "--region",
        "eu-west-1",
    )
    assert {(r["instance_type"], r["instance_size"]) for r in rows} >= {
        ("intel-spr", "x1"),
        ("nvidia-a10g", "x1"),
        ("nvidia-t4", "x1"),
    }
    assert {r["quota"] for r in rows if r["instance_type"] == "intel-spr"} == {"0/60"}
