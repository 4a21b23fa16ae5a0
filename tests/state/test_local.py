"""The local backend's own promises, beyond the contract (test_contract.py): the state folder is
never committed, a reader never sees half a file, and a lock left behind by a dead process is
not mistaken for a held one."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from provisioner.state.backend import LockHeld, LockInfo
from provisioner.state.local import LocalBackend

ALICE = LockInfo(
    id="alice-1", operation="apply", who="alice", host="laptop-1", pid=4242, created="2026-11-28"
)


def test_a_state_folder_under_dot_provisioner_is_git_ignored(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "repo" / ".provisioner" / "prod")
    backend.write("state.json", b"{}", replaces=None)
    assert (tmp_path / "repo" / ".provisioner" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_chosen_gitignore_is_left_alone_and_other_folders_get_none(tmp_path: Path) -> None:
    (tmp_path / ".provisioner").mkdir()
    (tmp_path / ".provisioner" / ".gitignore").write_text("!state.json\n")
    LocalBackend(tmp_path / ".provisioner" / "prod").acquire(ALICE)
    assert (tmp_path / ".provisioner" / ".gitignore").read_text() == "!state.json\n"

    LocalBackend(tmp_path / "shared-state" / "prod").write("state.json", b"{}", replaces=None)
    assert not (tmp_path / "shared-state" / ".gitignore").exists()


def test_writes_leave_no_temporary_files_and_only_the_owner_can_read(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "prod")
    version = backend.write("history/1.json", b"one", replaces=None)
    backend.write("history/1.json", b"two", replaces=version)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["prod/.objects.lock", "prod/history/1.json"]
    if os.name == "posix":
        mode = stat.S_IMODE((tmp_path / "prod" / "history" / "1.json").stat().st_mode)
        assert mode & 0o077 == 0


def test_a_reader_sees_the_old_bytes_or_the_new_never_a_mix(tmp_path: Path) -> None:
    writer, reader = LocalBackend(tmp_path / "prod"), LocalBackend(tmp_path / "prod")
    contents = [bytes([n]) * 256_000 for n in (1, 2)]
    version = writer.write("state.json", contents[0], replaces=None)
    seen: set[bytes] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            blob = reader.read("state.json")
            assert blob is not None
            seen.add(blob.data[:1] + blob.data[-1:])
            assert blob.data in contents

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for n in range(40):
            version = writer.write("state.json", contents[(n + 1) % 2], replaces=version)
    finally:
        done.set()
        thread.join()
    assert seen <= {b"\x01\x01", b"\x02\x02"}


def test_a_lock_record_left_by_a_dead_process_is_not_a_held_lock(tmp_path: Path) -> None:
    folder = tmp_path / "prod"
    folder.mkdir()
    # What a killed holder leaves: the record, and the lock file the OS no longer locks.
    (folder / "lock").touch()
    (folder / "lock.json").write_bytes(ALICE.to_json())
    backend = LocalBackend(folder)
    assert backend.holder() is None
    bob = LockInfo(id="bob-1", operation="apply", who="bob", host="h", pid=1, created="now")
    backend.acquire(bob)
    assert LockInfo.from_json((folder / "lock.json").read_bytes()) == bob
    assert LocalBackend(folder).holder() == bob
    backend.release(bob.id)
    assert not (folder / "lock.json").exists()


def test_a_held_lock_whose_record_is_unreadable_is_still_held(tmp_path: Path) -> None:
    holder = LocalBackend(tmp_path / "prod")
    holder.acquire(ALICE)
    (tmp_path / "prod" / "lock.json").write_text("{half a rec")
    other = LocalBackend(tmp_path / "prod")
    with pytest.raises(LockHeld) as held:
        other.holder()
    assert held.value.holder is None


def test_the_location_is_relative_to_the_working_directory_when_below_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = LocalBackend(tmp_path / ".provisioner" / "prod")
    monkeypatch.chdir(tmp_path)
    assert backend.location == str(Path(".provisioner") / "prod")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert backend.location == str(tmp_path.absolute() / ".provisioner" / "prod")
