"""huggingface_hub's `HF_DEBUG=1` prints every request it sends as a curl command, body
included: a create's or an update's `model.secrets` values would reach the terminal (and CI
logs). provisioner refuses the switch before any request, with a way forward; it never prints a
secret value or the token. huggingface_hub reads `HF_DEBUG` when it is imported, so the CLI runs
as its own process here (with the emulator in this one), as a person would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.reconcile.helpers import mutations, write_spec

# Each test starts a Python process.
pytestmark = pytest.mark.slow

SECRET = "debug-switch-secret-4f7c2a9e"
TOKEN = "hf_demo"


def _provisioner(
    emulator: Emulator, *args: str, **environ: str
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HF_", "PROVISIONER_"))
    }
    env.update(HF_TOKEN=TOKEN, PROVISIONER_API_URL=emulator.url, SERVICE_API_KEY=SECRET, **environ)
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _spec(specs: Path, max_replicas: int) -> None:
    write_spec(
        specs,
        "svc",
        namespace="acme",
        model={"secrets": {"API_KEY": {"from_env": "SERVICE_API_KEY"}}},
        scaling={"min_replicas": 1, "max_replicas": max_replicas},
    )


def _leaked(done: subprocess.CompletedProcess[str]) -> list[str]:
    text = done.stdout + done.stderr
    return [what for what, value in (("secret", SECRET), ("token", TOKEN)) if value in text]


@pytest.mark.parametrize("switch", ["1", "true"])
def test_hf_debug_never_prints_a_secret_on_create_or_on_an_update_that_resends_it(
    switch: str, tmp_path: Path, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _spec(specs, 1)
    created = _provisioner(
        emulator, "apply", "--dir", str(specs), "--auto-approve", "--no-wait", HF_DEBUG=switch
    )
    assert _leaked(created) == [], created.stderr[-2000:]
    assert created.returncode == 1, created.stdout + created.stderr
    assert "HF_DEBUG is set" in created.stderr
    assert "secret values included" in created.stderr
    assert mutations(emulator) == []  # refused before any request

    # Made without the switch, then updated with it (the update resends the secret).
    made = _provisioner(emulator, "apply", "--dir", str(specs), "--auto-approve", "--no-wait")
    assert made.returncode == 0, made.stderr
    assert _leaked(made) == []
    emulator.advance(60)
    emulator.clear_requests()
    _spec(specs, 2)
    updated = _provisioner(
        emulator,
        *("apply", "--dir", str(specs), "--auto-approve", "--no-wait", "--resend-secrets"),
        HF_DEBUG=switch,
    )
    assert _leaked(updated) == [], updated.stderr[-2000:]
    assert updated.returncode == 1
    assert "HF_DEBUG is set" in updated.stderr
    assert mutations(emulator) == []
