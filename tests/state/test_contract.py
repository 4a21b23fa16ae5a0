"""The state backend contract: what every backend (local, S3) promises `state.store`, run
against every target of `make_backend` (conftest.py). Two instances opened by `make_backend()`
are two processes' views of one stack; a test here fails only if a user could notice."""

from __future__ import annotations

import threading
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from provisioner.state.backend import (
    BackendError,
    Blob,
    LockHeld,
    LockInfo,
    WriteConflict,
)
from tests.state.conftest import Opener

ALICE = LockInfo(
    id="7d1c0b5e-alice",
    operation="apply",
    who="alice",
    host="laptop-1",
    pid=4242,
    created="2026-11-28T17:15:00Z",
    ci_url="https://ci.example/runs/1",
)
BOB = LockInfo(
    id="0c9e44aa-bob",
    operation="destroy",
    who="bob",
    host="laptop-2",
    pid=4343,
    created="2026-11-28T17:16:00Z",
)


# -- objects ------------------------------------------------------------------------------------


def test_a_missing_object_reads_as_none_and_deletes_quietly(make_backend: Opener) -> None:
    backend = make_backend()
    assert backend.read("state.json") is None
    assert backend.keys("") == []
    backend.delete("state.json")
    assert backend.read("state.json") is None


def test_create_then_replace_if_unchanged(make_backend: Opener) -> None:
    first, second = make_backend(), make_backend()
    v1 = first.write("state.json", b"one", replaces=None)
    assert second.read("state.json") == Blob(data=b"one", version=v1)

    v2 = second.write("state.json", b"two", replaces=v1)
    assert v2 != v1
    assert first.read("state.json") == Blob(data=b"two", version=v2)


def test_create_over_an_existing_object_conflicts_and_keeps_it(make_backend: Opener) -> None:
    first, second = make_backend(), make_backend()
    version = first.write("state.json", b"mine", replaces=None)
    with pytest.raises(WriteConflict):
        second.write("state.json", b"theirs", replaces=None)
    assert first.read("state.json") == Blob(data=b"mine", version=version)


def test_replace_with_a_stale_version_conflicts_and_keeps_the_newer(make_backend: Opener) -> None:
    first, second = make_backend(), make_backend()
    v1 = first.write("state.json", b"one", replaces=None)
    v2 = second.write("state.json", b"two", replaces=v1)
    with pytest.raises(WriteConflict):
        first.write("state.json", b"lost update", replaces=v1)
    assert second.read("state.json") == Blob(data=b"two", version=v2)


def test_replace_of_a_deleted_object_conflicts(make_backend: Opener) -> None:
    first, second = make_backend(), make_backend()
    version = first.write("state.json", b"one", replaces=None)
    second.delete("state.json")
    with pytest.raises(WriteConflict):
        first.write("state.json", b"two", replaces=version)
    assert second.read("state.json") is None


def test_delete_removes_the_object_for_everyone(make_backend: Opener) -> None:
    first, second = make_backend(), make_backend()
    first.write("history/1.json", b"{}", replaces=None)
    first.write("state.json", b"{}", replaces=None)
    second.delete("history/1.json")
    assert first.read("history/1.json") is None
    assert first.keys("") == ["state.json"]


def test_keys_are_sorted_filtered_by_prefix_and_scoped_to_the_stack(make_backend: Opener) -> None:
    backend = make_backend()
    for key in ("state.json", "history/b.json", "history/a.json", "historic.json", "key"):
        backend.write(key, b"x", replaces=None)
    make_backend("staging").write("history/other-stack.json", b"x", replaces=None)

    assert make_backend().keys("") == [
        "historic.json",
        "history/a.json",
        "history/b.json",
        "key",
        "state.json",
    ]
    assert backend.keys("history/") == ["history/a.json", "history/b.json"]
    assert backend.keys("histor") == ["historic.json", "history/a.json", "history/b.json"]
    assert backend.keys("nothing/") == []
    assert make_backend("staging").keys("") == ["history/other-stack.json"]


def test_the_lock_is_not_an_object(make_backend: Opener) -> None:
    backend = make_backend()
    backend.write("state.json", b"{}", replaces=None)
    backend.acquire(ALICE)
    assert make_backend().keys("") == ["state.json"]
    for reserved in ("lock", "lock.json"):
        with pytest.raises(ValueError):
            backend.read(reserved)
        with pytest.raises(ValueError):
            backend.write(reserved, b"{}", replaces=None)
    assert make_backend().holder() == ALICE


@pytest.mark.parametrize(
    "key", ["", "/state.json", "../state.json", "a/../../b", "a//b", "./a", "a/", ".hidden", "a\\b"]
)
def test_bad_keys_are_refused_on_every_backend(make_backend: Opener, key: str) -> None:
    backend = make_backend()
    for attempt in (
        lambda: backend.read(key),
        lambda: backend.write(key, b"x", replaces=None),
        lambda: backend.delete(key),
    ):
        with pytest.raises(ValueError):
            attempt()
    assert backend.keys("") == []


# -- concurrent writers ---------------------------------------------------------------------------

WRITERS = 8


def test_racing_replaces_of_one_version_have_exactly_one_winner(make_backend: Opener) -> None:
    """Every writer read the same version before any writes; then all replace it at once."""
    base = make_backend().write("state.json", b"base", replaces=None)
    backends = [make_backend() for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    outcomes: dict[int, str] = {}

    def writer(n: int) -> None:
        read = backends[n].read("state.json")
        assert read is not None and read.version == base
        start.wait()
        try:
            backends[n].write("state.json", f"writer {n}".encode(), replaces=base)
            outcomes[n] = "won"
        except WriteConflict:
            outcomes[n] = "conflict"

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winners = [n for n, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == WRITERS
    assert len(winners) == 1, outcomes
    final = make_backend().read("state.json")
    assert final is not None and final.data == f"writer {winners[0]}".encode()


def test_read_modify_write_with_retries_loses_no_update(make_backend: Opener) -> None:
    make_backend().write("counter", b"0", replaces=None)
    backends = [make_backend() for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    conflicts = [0] * WRITERS

    def increment(n: int) -> None:
        start.wait()
        while True:
            blob = backends[n].read("counter")
            assert blob is not None
            try:
                backends[n].write("counter", b"%d" % (int(blob.data) + 1), replaces=blob.version)
                return
            except WriteConflict:
                conflicts[n] += 1

    threads = [threading.Thread(target=increment, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    final = make_backend().read("counter")
    assert final is not None and int(final.data) == WRITERS


# -- the lock -----------------------------------------------------------------------------------


def test_a_held_lock_refuses_others_and_names_its_holder(make_backend: Opener) -> None:
    alice, bob = make_backend(), make_backend()
    assert bob.holder() is None
    alice.acquire(ALICE)

    with pytest.raises(LockHeld) as held:
        bob.acquire(BOB)
    assert held.value.holder == ALICE  # id, who, host, pid, operation, created, ci_url
    assert held.value.location == bob.location
    assert bob.location in str(held.value)
    assert bob.holder() == ALICE
    assert make_backend().holder() == ALICE

    alice.release(ALICE.id)
    assert bob.holder() is None
    bob.acquire(BOB)
    assert alice.holder() == BOB
    with pytest.raises(LockHeld) as held:
        alice.acquire(ALICE)
    assert held.value.holder == BOB
    bob.release(BOB.id)
    assert make_backend().holder() is None


def test_each_stack_has_its_own_lock(make_backend: Opener) -> None:
    make_backend().acquire(ALICE)
    staging = make_backend("staging")
    staging.acquire(BOB)
    assert staging.holder() == BOB
    assert make_backend().holder() == ALICE


def test_release_under_another_id_leaves_the_lock_held(make_backend: Opener) -> None:
    alice, bob = make_backend(), make_backend()
    alice.acquire(ALICE)
    alice.release(BOB.id)
    bob.release(ALICE.id)  # not the instance (process) that took it
    bob.release(BOB.id)
    assert make_backend().holder() == ALICE
    with pytest.raises(LockHeld):
        bob.acquire(BOB)


def test_release_of_a_free_lock_is_quiet(make_backend: Opener) -> None:
    backend = make_backend()
    backend.release(ALICE.id)
    backend.acquire(ALICE)
    backend.release(ALICE.id)
    backend.release(ALICE.id)
    assert backend.holder() is None


def test_force_unlock_of_a_free_lock_is_refused(make_backend: Opener) -> None:
    with pytest.raises(BackendError, match="not held"):
        make_backend().force_unlock(ALICE.id)


def test_force_unlock_under_a_wrong_id_is_refused(make_backend: Opener) -> None:
    make_backend().acquire(ALICE)
    other = make_backend()
    with pytest.raises(BackendError) as refused:
        other.force_unlock("not-the-id")
    assert not isinstance(refused.value, LockHeld)
    assert ALICE.id in str(refused.value)  # so the user can see which id they should have used
    assert "not-the-id" in str(refused.value)
    assert other.holder() == ALICE


def test_force_unlock_of_a_running_holders_lock(make_backend: Opener) -> None:
    """S3 cannot tell a live holder from a dead one: the right id breaks the lock. A local lock
    is held by a running process for as long as it runs: refused, naming the process."""
    make_backend().acquire(ALICE)
    other = make_backend()
    if make_backend.is_local:
        with pytest.raises(BackendError) as refused:
            other.force_unlock(ALICE.id)
        message = str(refused.value)
        assert str(ALICE.pid) in message and ALICE.host in message
        assert "stop that process" in message
        assert other.holder() == ALICE
    else:
        assert other.force_unlock(ALICE.id) == ALICE
        assert other.holder() is None
        other.acquire(BOB)
        assert make_backend().holder() == BOB


def test_a_killed_holder(make_backend: Opener, spawn_holder: Any) -> None:
    """Local: the OS releases a killed process's lock, whatever lock.json says. S3: the lock
    outlives its holder (S3 cannot know it died) until `force_unlock` with its id."""
    dead = {k: v for k, v in asdict(ALICE).items() if k != "pid"}
    if make_backend.child is None:
        # In-process moto cannot be shared with another process: a holder that never releases
        # is what a killed one looks like to S3.
        make_backend().acquire(ALICE)
        dead_pid = ALICE.pid
    else:
        holder = spawn_holder(make_backend.child, dead)
        dead_pid = holder.pid
        assert make_backend().holder() == replace(ALICE, pid=dead_pid)
        holder.kill()
        holder.wait()

    survivor = make_backend()
    if make_backend.is_local:
        assert make_backend.child is not None
        # The killed holder's record is still there; the OS lock is what counts.
        assert (Path(make_backend.child["directory"]) / "lock.json").exists()
        assert survivor.holder() is None
        with pytest.raises(BackendError, match="not held"):
            survivor.force_unlock(ALICE.id)
        survivor.acquire(BOB)
        assert make_backend().holder() == BOB
    else:
        with pytest.raises(LockHeld) as held:
            survivor.acquire(BOB)
        assert held.value.holder is not None and held.value.holder.pid == dead_pid
        assert survivor.force_unlock(ALICE.id) == replace(ALICE, pid=dead_pid)
        survivor.acquire(BOB)
        assert make_backend().holder() == BOB


# -- errors -------------------------------------------------------------------------------------


def test_unusable_storage_is_a_backend_error_naming_the_location(
    make_backend: Opener, tmp_path: Any
) -> None:
    """Local: the state folder cannot be created (a file is in the way). S3: no such bucket."""
    if make_backend.is_local:
        (tmp_path / "blocked").write_text("a file, not a folder")
        broken = replace(make_backend, config=replace(make_backend.config, path="blocked/state"))
    else:
        broken = replace(make_backend, config=replace(make_backend.config, bucket="no-such-bucket"))
    backend = broken()
    for attempt in (
        lambda: backend.write("state.json", b"{}", replaces=None),
        lambda: backend.acquire(ALICE),
    ):
        with pytest.raises(BackendError) as failed:
            attempt()
        message = str(failed.value)
        assert backend.location in message
        assert "Traceback" not in message and "\n" not in message
        assert not isinstance(failed.value, WriteConflict | LockHeld)
    if not make_backend.is_local:
        for attempt in (lambda: backend.read("state.json"), lambda: backend.keys("")):
            with pytest.raises(BackendError, match="does not exist"):
                attempt()
