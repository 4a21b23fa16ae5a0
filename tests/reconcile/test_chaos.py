"""A seeded chaos run (issue: reliability): random 429/5xx faults on every API call plus lost
responses on creates, updates and deletes, over a mixed fleet with endpoints of another stack and
one made by hand. Apply is re-run until it succeeds; then the fleet is exactly the specs, a plan
is clean, and nothing unmanaged was touched."""

from __future__ import annotations

import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
LOST = ("POST", "PUT", "DELETE")


def _live(emulator: Emulator) -> dict[str, dict[str, Any]]:
    """The fleet, read through the chaos: random faults stay on for the whole test, and which
    request draws one depends on the order of concurrent calls (the live read lists, reads
    hardware and model infos at once), so the test's own reads retry as any client would."""
    for _ in range(20):
        try:
            return live(emulator)
        except urllib.error.HTTPError as error:
            if error.code not in (429, 500, 502, 503, 504):
                raise
    pytest.fail("the emulator answered 20 reads in a row with a fault")


def _untouched(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record["tags"], record["status"]["updatedAt"], record["compute"], record["model"])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 11])
def test_apply_converges_under_random_faults_and_lost_responses(
    seed: int,
    tmp_path: Path,
    cli: Cli,
    make_emulator: Callable[..., Emulator],
    hub_for: Callable[..., HfApi],
) -> None:
    emulator = make_emulator(fault_rate=0.25, seed=seed)
    ctx = context_for(emulator)
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for folder, stack in ((ours, "ours"), (theirs, "theirs")):
        folder.mkdir()
        (folder / "_settings.yaml").write_text(f"stack: {stack}\nnamespace: acme\n")
    for name in ("keep", "grow", "gone", "nap"):
        write_spec(ours, name)
    write_spec(theirs, "other")

    def settle(folder: Path) -> None:
        for _ in range(12):
            if cli("apply", "--dir", str(folder), "--auto-approve", ctx=ctx).code == 0:
                return
        pytest.fail(f"apply of {folder.name} did not converge in 12 runs")

    settle(ours)
    settle(theirs)
    faulted = [r for r in emulator.requests() if r["status"] in (429, 500, 502, 503, 504)]
    assert len(faulted) >= 3, "the chaos run must actually meet faults"
    emulator.clear_faults()
    unmanaged(hub_for(emulator), "byhand")
    before = {name: _untouched(_live(emulator)[name]) for name in ("other", "byhand")}

    write_spec(ours, "grow", scaling={"max_replicas": 3}, model={"env": {"A": "1"}})
    write_spec(ours, "nap", state="paused")
    write_spec(ours, "new")
    (ours / "gone.yaml").unlink()
    for method in LOST:  # each answered 503 after it was carried out
        emulator.add_fault(
            {"kind": "http", "method": method, "path": "/v2/endpoint/acme*", "status": 503,
             "after": True, "count": 1}
        )  # fmt: skip
    settle(ours)

    now = _live(emulator)
    assert sorted(now) == ["byhand", "grow", "keep", "nap", "new", "other"]
    assert now["grow"]["compute"]["scaling"]["maxReplica"] == 3
    assert now["grow"]["model"]["env"] == {"A": "1"}
    assert now["nap"]["status"]["state"] == "paused"
    assert {name: _untouched(now[name]) for name in ("other", "byhand")} == before
    plan = cli("plan", "--dir", str(ours), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 0, plan.text
