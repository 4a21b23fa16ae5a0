"""The state store over every backend (local, S3 in-process, S3 server): the state document
and its concurrent writers, the fingerprint key and secret-change detection, the history,
waiting for a lock with backoff, and a crashed holder. Every test runs on all three targets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from provisioner.apply.recording import secrets_seen
from provisioner.spec.model import EndpointSpec
from provisioner.spec.stack import load_stack
from provisioner.state.backend import LockHeld, LockInfo
from provisioner.state.model import EndpointRecord, HistoryRecord, StackState, fingerprint
from provisioner.state.store import StateConflict, StateStore
from tests.reconcile.helpers import write_spec
from tests.state.conftest import Opener


class Clock:
    """Wall time for records, and a monotonic clock whose sleep only moves it on."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
        self.mono = 0.0
        self.slept: list[float] = []

    def now(self) -> datetime:
        self.wall += timedelta(milliseconds=1)
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.mono += seconds


def _store(make_backend: Opener, clock: Clock) -> StateStore:
    return StateStore(make_backend(), "prod", now=clock.now)


def _record(**secrets: str) -> EndpointRecord:
    return EndpointRecord(
        spec={"instance_size": "x1"},
        secrets=dict(secrets),
        applied_at="2026-11-28T17:00:00Z",
        applied_by="alice",
    )


def test_state_round_trips_and_each_write_is_the_next_serial(make_backend: Opener) -> None:
    clock = Clock()
    store = _store(make_backend, clock)
    empty = store.read()
    assert (empty.serial, empty.endpoints, empty.version) == (0, {}, None)
    first = store.write(StackState(stack="prod", endpoints={"acme/a": _record(K="hmac-sha256:1")}))
    again = _store(make_backend, clock).read()  # another process's view
    assert again.serial == 1 and again.lineage == first.lineage
    assert again.endpoints["acme/a"].secrets == {"K": "hmac-sha256:1"}
    second = store.write(again)
    assert second.serial == 2 and second.lineage == first.lineage


def test_a_concurrent_writer_is_detected_not_overwritten(make_backend: Opener) -> None:
    clock = Clock()
    one, two = _store(make_backend, clock), _store(make_backend, clock)
    base = one.write(StackState(stack="prod"))
    seen_by_one, seen_by_two = one.read(), two.read()
    one.write(StackState(**{**vars(seen_by_one), "endpoints": {"acme/a": _record()}}))
    with pytest.raises(StateConflict, match="changed by another writer"):
        two.write(StackState(**{**vars(seen_by_two), "endpoints": {"acme/b": _record()}}))
    final = one.read()
    assert set(final.endpoints) == {"acme/a"} and final.serial == base.serial + 1


def test_racing_writers_lose_no_update(make_backend: Opener) -> None:
    clock = Clock()
    _store(make_backend, clock).write(StackState(stack="prod"))
    conflicts = []

    def add(address: str) -> None:
        store = _store(make_backend, clock)
        while True:
            state = store.read()
            endpoints = {**state.endpoints, address: _record()}
            try:
                store.write(StackState(**{**vars(state), "endpoints": endpoints}))
                return
            except StateConflict:
                conflicts.append(address)

    threads = [threading.Thread(target=add, args=(f"acme/e{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = _store(make_backend, clock).read()
    assert set(final.endpoints) == {f"acme/e{i}" for i in range(6)}
    assert final.serial == 1 + 6 + 0  # one write per endpoint kept, none lost or doubled


def test_the_fingerprint_key_is_made_once_and_shared(make_backend: Opener) -> None:
    clock = Clock()
    one, two = _store(make_backend, clock), _store(make_backend, clock)
    assert one.fingerprint_key(create=False) is None
    keys: list[bytes | None] = []
    threads = [
        threading.Thread(target=lambda s=s: keys.append(s.fingerprint_key(create=True)))
        for s in (one, two)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert keys[0] == keys[1] and keys[0] is not None and len(keys[0]) == 32


@pytest.fixture
def secret_spec(tmp_path: Path) -> EndpointSpec:
    """acme/svc, whose secret API_KEY comes from SVC_API_KEY."""
    folder = tmp_path / "specs"
    secrets = {"API_KEY": {"from_env": "SVC_API_KEY"}}
    write_spec(folder, "svc", namespace="acme", model={"secrets": secrets})
    stack, diagnostics = load_stack(folder)
    assert not diagnostics.has_errors
    (spec,) = stack.resolved_specs("demo")
    return spec


def test_a_changed_secret_value_is_seen_through_the_state_and_no_value_is_stored(
    make_backend: Opener, secret_spec: EndpointSpec
) -> None:
    clock = Clock()
    store = _store(make_backend, clock)
    key = store.fingerprint_key(create=True)
    assert key is not None
    address = f"{secret_spec.namespace}/{secret_spec.name}"
    applied = {"API_KEY": fingerprint(key, address, "API_KEY", "old-value-123")}
    store.write(StackState(stack="prod", endpoints={address: _record(**applied)}))
    # Another process (a later plan) reads state and key, and fingerprints what is set now.
    later = _store(make_backend, clock)
    state, later_key = later.read(), later.fingerprint_key(create=False)
    same = secrets_seen([secret_spec], state, later_key, {"SVC_API_KEY": "old-value-123"})
    changed = secrets_seen([secret_spec], state, later_key, {"SVC_API_KEY": "new-value-456"})
    assert same.current[address] == same.recorded[address]
    assert changed.current[address] != changed.recorded[address]
    stored = b"".join(
        blob.data
        for key_name in [*later.backend.keys(""), "state.json"]
        if (blob := later.backend.read(key_name)) is not None
    )
    assert b"old-value-123" not in stored and b"new-value-456" not in stored


def test_history_is_kept_newest_first_across_writers(make_backend: Opener) -> None:
    clock = Clock()
    stores = [_store(make_backend, clock), _store(make_backend, clock)]
    for serial in range(1, 6):
        stores[serial % 2].append(
            HistoryRecord(
                id=f"run{serial}",
                operation="apply",
                started="2026-11-28T17:00:00Z",
                finished="2026-11-28T17:01:00Z",
                who="alice",
                host="laptop",
                serial=serial,
            )
        )
    assert [r.serial for r in stores[0].history()] == [5, 4, 3, 2, 1]
    assert [r.id for r in stores[1].history(limit=2)] == ["run5", "run4"]


def _info(lock_id: str, **fields: Any) -> LockInfo:
    values: dict[str, Any] = {
        "id": lock_id,
        "operation": "apply",
        "who": "alice",
        "host": "laptop",
        "pid": 4242,
        "created": "2026-11-28T17:00:00Z",
        "ci_url": "https://ci.example/run/9",
        **fields,
    }
    return LockInfo(**values)


def test_a_held_lock_is_waited_for_with_backoff_then_reported(make_backend: Opener) -> None:
    clock = Clock()
    holder, waiter = _store(make_backend, clock), _store(make_backend, clock)
    waits: list[tuple[LockInfo | None, float]] = []
    with (
        holder.locked(_info("held"), timeout=0, clock=lambda: clock.mono, sleep=clock.sleep),
        pytest.raises(LockHeld) as caught,
        waiter.locked(
            _info("waiting"),
            timeout=20,
            clock=lambda: clock.mono,
            sleep=clock.sleep,
            on_wait=lambda who, delay: waits.append((who, delay)),
        ),
    ):
        pytest.fail("the lock was taken twice")
    assert caught.value.holder is not None and caught.value.holder.id == "held"
    assert caught.value.holder.ci_url == "https://ci.example/run/9"
    assert clock.slept == [1.0, 2.0, 4.0, 8.0, 5.0]  # doubling, cut at the timeout
    assert all(who is not None and who.who == "alice" for who, _ in waits)


def test_a_lock_released_while_waiting_is_taken(make_backend: Opener) -> None:
    clock = Clock()
    holder, waiter = _store(make_backend, clock), _store(make_backend, clock)
    held = holder.locked(_info("first"), timeout=0, clock=lambda: clock.mono, sleep=clock.sleep)
    held.__enter__()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.slept) == 2:
            held.__exit__(None, None, None)  # the first run finishes during the second wait

    with waiter.locked(_info("second"), timeout=60, clock=lambda: clock.mono, sleep=sleep):
        assert holder.backend.holder() is not None
        assert holder.backend.holder().id == "second"  # type: ignore[union-attr]
    assert holder.backend.holder() is None and len(clock.slept) == 2


def test_a_crashed_holder_leaves_a_way_out(
    make_backend: Opener, spawn_holder: Callable[..., Any]
) -> None:
    if make_backend.child is None:
        pytest.skip("an in-process S3 mock cannot be shared with another process")
    clock = Clock()
    fields = {
        "id": "crashed",
        "operation": "apply",
        "who": "ci",
        "host": "runner",
        "created": "2026-11-28T17:00:00Z",
        "ci_url": None,
    }
    process = spawn_holder(make_backend.child, fields)
    process.kill()
    process.communicate()
    store = _store(make_backend, clock)
    take = lambda: store.locked(  # noqa: E731
        _info("next"), timeout=0, clock=lambda: clock.mono, sleep=clock.sleep
    )
    if make_backend.is_local:
        with take():  # the OS released a dead process's file lock
            pass
        return
    with pytest.raises(LockHeld) as caught, take():
        pass
    assert caught.value.holder is not None and caught.value.holder.pid == process.pid
    released = store.unlock("crashed")
    assert released.pid == process.pid
    with take():
        pass
