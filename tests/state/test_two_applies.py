"""Two `provisioner apply` processes started at the same moment on one stack, sharing an S3
backend (a moto server, over real HTTP) and the emulator: one runs; the other fails at once
naming the holder (--lock-timeout 0) or waits for it and then has nothing left to do. Either
way no endpoint is created twice, and the state and history show one apply that created them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator
from provisioner.state.s3 import S3Backend
from provisioner.state.store import StateStore
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import mutations, write_spec
from tests.support.cli import run

NAMES = ("alpha", "beta", "gamma")


def _apply(specs: Path, env: dict[str, str], lock_timeout: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provisioner",
            "apply",
            "--dir",
            str(specs),
            "--auto-approve",
            "--no-wait",
            "--lock-timeout",
            str(lock_timeout),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("lock_timeout", [0, 120])
def test_two_applies_at_once_never_create_an_endpoint_twice(
    lock_timeout: int,
    tmp_path: Path,
    moto_server: str,
    boto_session: Any,
    make_emulator: Callable[..., Emulator],
) -> None:
    # Each request takes a moment, so the first apply holds the lock while the second starts.
    emulator = make_emulator(latency_ms=100)
    bucket = f"two-applies-{lock_timeout}"
    boto_session.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    specs = tmp_path / "endpoints"
    for name in NAMES:
        write_spec(specs, name, namespace="acme")
    (specs / "_settings.yaml").write_text("stack: team\n")
    env = {
        **{
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "HF_", "PROVISIONER_"))
        },
        "HF_TOKEN": "hf_demo",
        "PROVISIONER_API_URL": emulator.url,
        "PROVISIONER_BACKEND": f"s3://{bucket}/state",
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    runs = [_apply(specs, env, lock_timeout) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in runs]

    creates = Counter(
        r["body"]["name"]
        for r in emulator.requests()
        if r["method"] == "POST" and r["path"].startswith("/v2/endpoint/") and r["status"] < 300
    )
    assert creates == dict.fromkeys(NAMES, 1), results
    codes = sorted(code for code, _, _ in results)
    outputs = [out + err for _, out, err in results]
    if codes == [0, 1]:
        blocked = outputs[[c for c, _, _ in results].index(1)]
        assert "is locked" in blocked and "held by" in blocked and "for apply since" in blocked
        assert "provisioner state unlock" in blocked
    else:
        assert codes == [0, 0], outputs
        assert any("No changes" in text for text in outputs), outputs
    if lock_timeout:
        assert codes == [0, 0], outputs  # the second waited for the first instead of failing
    backend = S3Backend(bucket, "state/team", endpoint_url=moto_server)
    store = StateStore(backend, "team", now=lambda: datetime.now(UTC))
    (record,) = store.history()
    assert sorted(a.address for a in record.actions) == [f"acme/{n}" for n in NAMES]
    assert store.read().serial == 1


def test_a_killed_apply_s_lock_is_released_by_the_command_the_error_prints(
    tmp_path: Path,
    moto_server: str,
    boto_session: Any,
    emulator: Emulator,
    spawn_holder: Callable[..., subprocess.Popen[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = "killed-holder"
    boto_session.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    specs = tmp_path / "endpoints"
    write_spec(specs, "alpha", namespace="acme")
    (specs / "_settings.yaml").write_text(f"stack: team\nbackend: s3://{bucket}/state\n")
    where = {"kind": "s3", "bucket": bucket, "prefix": "state/team", "url": moto_server}
    fields = {
        "id": "deadbeef",
        "operation": "apply",
        "who": "ci-bot",
        "host": "runner-3",
        "created": "2026-11-28T17:00:00Z",
        "ci_url": "https://ci.example/runs/41",
    }
    holder = spawn_holder(where, fields)
    holder.kill()  # a CI job cancelled mid-apply: its lock stays in the bucket
    holder.communicate()
    context = context_for(emulator)
    blocked = run(capsys, "apply", "--dir", str(specs), "--auto-approve", context=context)
    assert blocked.code == 1
    assert f"held by ci-bot on host runner-3 (pid {holder.pid})" in blocked.err
    assert "CI run https://ci.example/runs/41" in blocked.err
    assert mutations(emulator) == []
    printed = re.search(r"provisioner (state unlock \S+ --dir \S+)", blocked.err)
    assert printed is not None
    unlocked = run(capsys, *printed.group(1).split(), context=context)
    assert unlocked.code == 0, unlocked.text
    assert "Released the state lock (held by ci-bot" in unlocked.out
    applied = run(capsys, "apply", "--dir", str(specs), "--auto-approve", context=context)
    assert applied.code == 0, applied.text
