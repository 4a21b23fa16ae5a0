"""A seeded chaos run of another kind (issue: reliability): `provisioner apply` as a real
process, killed (SIGKILL) or terminated (SIGTERM) at random moments while it sends changes,
several times over a create phase and a change phase (updates, a replacement, a deletion, a
pause, creates), then applied again until it succeeds. The fleet is then exactly the specs, a
plan is clean, no endpoint was created twice, and neither an endpoint made by hand nor one of
another stack was touched. A terminated apply says what it had sent and exits 143, as an
interrupted one (Ctrl-C: 130) does."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Durations, Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]

# Everything is instant in emulated time (frozen): only the kills make an apply stop half way.
INSTANT = Durations(
    pending=0, initializing=0, updating=0, resume=0, scale_up=0, delete_grace=0, name_reserved=0
)


@dataclass(frozen=True)
class Run:
    signal: signal.Signals | None
    code: int
    err: str
    out: str = ""

    @property
    def finished_first(self) -> bool:
        """The apply had done everything before the signal landed (a loaded machine is slow to
        deliver it): exit 0, or killed on its way out after "Apply complete"."""
        return "Apply complete" in self.out and self.code in (0, -signal.SIGTERM, -signal.SIGKILL)


def _untouched(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record["tags"], record["status"]["updatedAt"], record["compute"], record["model"])


def _mutating(emulator: Emulator) -> list[dict[str, Any]]:
    return [
        r
        for r in emulator.requests()
        if r["method"] in ("POST", "PUT", "DELETE") and r["path"].startswith("/v2/endpoint/")
    ]


def _settled(emulator: Emulator) -> int:
    """The count of mutating requests once it stops moving: a killed apply's requests may still
    be in the emulator (40 ms of latency each) and would otherwise count as the next apply's,
    which would then be signalled before it even started."""
    count = len(_mutating(emulator))
    while True:
        time.sleep(0.25)
        now = len(_mutating(emulator))
        if now == count:
            return count
        count = now


def _apply(
    emulator: Emulator,
    folder: Path,
    home: Path,
    *,
    kill: tuple[signal.Signals, int] | None = None,
    parallelism: int = 8,
) -> Run:
    """`provisioner apply --auto-approve` as its own process; with `kill`, that signal once the
    emulator has answered that many more changes (if the apply gets that far)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PROVISIONER_"))}
    env.update(
        HF_TOKEN="hf_demo",
        PROVISIONER_API_URL=emulator.url,
        HF_HOME=str(home),
        HF_HUB_DISABLE_UPDATE_CHECK="1",
        HF_HUB_DISABLE_TELEMETRY="1",
    )
    command = [sys.executable, "-m", "provisioner", "apply", "--dir", str(folder)]
    command += ["--auto-approve", "--parallelism", str(parallelism)]
    before = _settled(emulator)
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sent: signal.Signals | None = None
    deadline = time.monotonic() + 60
    while kill is not None and proc.poll() is None and time.monotonic() < deadline:
        if len(_mutating(emulator)) - before >= kill[1]:
            proc.send_signal(kill[0])
            sent = kill[0]
            break
        time.sleep(0.002)
    out, err = proc.communicate(timeout=60)
    return Run(sent, proc.returncode, err, out)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 7])
def test_apply_killed_at_random_moments_converges_without_duplicates(
    seed: int,
    tmp_path: Path,
    cli: Cli,
    make_emulator: Callable[..., Emulator],
    hub_for: Callable[..., HfApi],
) -> None:
    rng = random.Random(seed)
    # Latency spreads an apply's requests over time, so a kill lands between two of them.
    emulator = make_emulator(durations=INSTANT, latency_ms=40)
    ctx = context_for(emulator)
    home = tmp_path / "hf-home"  # made by `hub_for`
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder, stack in ((ours, "ours"), (theirs, "theirs")):
        folder.mkdir()
        (folder / "_settings.yaml").write_text(f"stack: {stack}\nnamespace: acme\n")
    write_spec(theirs, "other")
    assert cli("apply", "--dir", str(theirs), "--auto-approve", ctx=ctx).code == 0
    unmanaged(hub_for(emulator), "byhand")
    emulator.advance(1)
    before = {name: _untouched(live(emulator)[name]) for name in ("other", "byhand")}

    for name in ("a", "b", "c", "d", "e", "f"):
        write_spec(ours, name)
    signals = [signal.SIGTERM, signal.SIGKILL] * 3
    rng.shuffle(signals)
    runs: list[Run] = []

    def chaos(rounds: list[signal.Signals]) -> None:
        # Killed once the first of its changes is answered: whatever else it has in flight (up
        # to `parallelism`, seeded) is cut at a moment of the machine's choosing. A later
        # threshold made the kill land only if enough changes were left, which a loaded machine
        # (slower processes, more done before the signal) did not always leave.
        for sig in rounds:
            kill = (sig, 1)
            runs.append(_apply(emulator, ours, home, kill=kill, parallelism=rng.randint(1, 3)))

    chaos(signals[:3])
    write_spec(ours, "a", scaling={"max_replicas": 3}, model={"env": {"A": "1"}})  # update
    write_spec(ours, "b", compute={"region": "eu-west-1"})  # forces a replacement
    (ours / "c.yaml").unlink()  # a deletion
    write_spec(ours, "d", state="paused")
    write_spec(ours, "g")
    write_spec(ours, "h")
    chaos(signals[3:])
    for _ in range(8):
        runs.append(last := _apply(emulator, ours, home))
        if last.code == 0:
            break
    else:
        pytest.fail(f"apply did not converge after the kills: {last.err[-3000:]}")

    killed = [run for run in runs if run.signal is not None and not run.finished_first]
    assert len(killed) >= 4, "the chaos run must actually kill applies mid-way"
    for run in runs:
        assert "Traceback" not in run.err and "internal error" not in run.err, run.err
        if run.signal is None or run.finished_first:
            continue
        if run.signal is signal.SIGKILL:
            assert run.code == -signal.SIGKILL
        elif run.signal is signal.SIGTERM:
            # As Ctrl-C: what had been sent (it had sent something), then 128 + SIGTERM.
            assert run.code == 128 + signal.SIGTERM, run.err
            assert "Interrupted. What had been sent:" in run.err, run.err
            assert run.err.endswith("Terminated.\n"), run.err
    posts = [
        r for r in _mutating(emulator) if (r["method"], r["path"]) == ("POST", "/v2/endpoint/acme")
    ]
    created = Counter(r["body"]["name"] for r in posts if r["status"] == 200)
    # Once each; b twice, as its replacement. A create retried after a lost answer is a 409.
    assert created == {n: 2 if n == "b" else 1 for n in "abcdefgh"}, created
    now = live(emulator)
    assert sorted(now) == ["a", "b", "byhand", "d", "e", "f", "g", "h", "other"]
    assert now["a"]["compute"]["scaling"]["maxReplica"] == 3
    assert now["a"]["model"]["env"] == {"A": "1"}
    assert now["b"]["provider"]["region"] == "eu-west-1"
    assert now["d"]["status"]["state"] == "paused"
    assert {name: _untouched(now[name]) for name in ("other", "byhand")} == before
    plan = cli("plan", "--dir", str(ours), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 0, plan.text
