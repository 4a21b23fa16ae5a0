"""A forced unlock while an apply still runs (someone took its lock for dead): when that apply
writes the state, an endpoint that the other apply changed after it keeps the other apply's
record, this apply's other records are written, and both warnings are printed.

The first apply runs in this process on an S3 backend (a moto server); while it waits for its
endpoints, it breaks its own lock the way `provisioner state unlock` does and a second apply
runs as another process, changing one of the same endpoints. The first apply's clock runs 5 s
behind, so its changes were accepted, by the time stamps, before the second's."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator
from provisioner.state.s3 import S3Backend
from provisioner.state.store import StateStore
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, write_spec
from tests.support.cli import run


def test_a_record_of_a_later_apply_is_kept_after_a_forced_unlock(
    tmp_path: Path,
    moto_server: str,
    boto_session: Any,
    emulator: Emulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = "forced-unlock"
    boto_session.client("s3", endpoint_url=moto_server).create_bucket(Bucket=bucket)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    settings = f"stack: team\nnamespace: acme\nbackend: s3://{bucket}/state\n"
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    for specs in (mine, theirs):
        specs.mkdir()
        (specs / "_settings.yaml").write_text(settings)
        write_spec(specs, "alpha")
        write_spec(specs, "beta")
    store = StateStore(
        S3Backend(bucket, "state/team", endpoint_url=moto_server, session=boto_session),
        "team",
        now=lambda: datetime.now(UTC),
    )
    first = run(
        capsys, "apply", "--dir", str(mine), "--auto-approve", context=context_for(emulator)
    )
    assert first.code == 0, first.text

    # This apply changes both endpoints; the other (their branch) changes alpha only.
    write_spec(mine, "alpha", model={"env": {"MODE": "mine"}})
    write_spec(mine, "beta", model={"env": {"MODE": "mine"}})
    write_spec(theirs, "alpha", model={"env": {"MODE": "theirs"}})
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PROVISIONER_"))},
        "HF_TOKEN": "hf_demo",
        "PROVISIONER_API_URL": emulator.url,
        "USER": "second-run",
    }
    other: list[subprocess.CompletedProcess[str]] = []

    def sleep(seconds: float) -> None:
        if not other:  # the first wait: this apply's changes were all accepted
            holder = store.backend.holder()
            assert holder is not None
            store.unlock(holder.id)
            command = [sys.executable, "-m", "provisioner", "apply", "--dir", str(theirs)]
            other.append(
                subprocess.run(
                    [*command, "--auto-approve", "--no-wait", "--lock-timeout", "0"],
                    env=env,
                    check=False,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            )
        emulator.advance(seconds)

    behind: Callable[[], datetime] = lambda: datetime.now(UTC) - timedelta(seconds=5)  # noqa: E731
    context = replace(context_for(emulator, USER="first-run"), sleep=sleep, now=behind)
    applied = run(capsys, "apply", "--dir", str(mine), "--auto-approve", context=context)

    (second,) = other
    assert second.returncode == 0, second.stdout + second.stderr
    assert applied.code == 0, applied.text
    assert "warning: the state lock this apply held was broken while it ran" in applied.err
    assert (
        "warning: acme/alpha: the state keeps the record of another apply (second-run, at "
        in applied.err
    ), applied.err
    state = store.read()
    assert state.endpoints["acme/alpha"].applied_by == "second-run"
    assert state.endpoints["acme/beta"].applied_by == "first-run"
    # The state says what is live: their alpha, this apply's beta.
    endpoints = live(emulator)
    assert endpoints["alpha"]["model"]["env"]["MODE"] == "theirs"
    assert endpoints["beta"]["model"]["env"]["MODE"] == "mine"
    assert dict(state.endpoints["acme/alpha"].spec)["env"] == {"MODE": "theirs"}
