"""The local backend: a stack's objects as files in a folder, its lock an operating-system lock.

Layout of the stack's folder (`.provisioner/<stack>/` by default):

    state.json, history/...   the objects, one file per key
    .objects.lock             held for a few milliseconds around each write or delete
    lock                      the stack lock: an OS file lock held for a whole operation
    lock.json                 who holds it (written after the OS lock is taken, removed on release)

Versions are the SHA-256 of the content, so "unchanged since read" means "same bytes". A write
compares the version and replaces the file under `.objects.lock` (another process's write waits
its turn), through a temporary file in the same folder, fsync'd, then `os.replace`d: a reader sees
the old bytes or the new, never a mix. Files are created readable by their owner only (the state
holds the fingerprint key).

The stack lock is `filelock`'s OS lock (flock on POSIX, LockFileEx on Windows): the operating
system releases it when its process ends, however it ends. So whether the lock is held is always
asked of the OS, never read from `lock.json`, which a killed holder leaves behind. It also means a
local lock can never be forced: while its process runs it is really held, and once it has ended
there is nothing to break.

Rule: nothing here knows what the objects mean; messages name files, never their contents.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from provisioner.state.backend import BackendError, Blob, LockHeld, LockInfo, WriteConflict
from provisioner.state.keys import check_key, check_prefix

_OBJECTS_LOCK = ".objects.lock"
_LOCK = "lock"
_RECORD = "lock.json"
# A write holds `.objects.lock` for the time of one small file write; waiting this long means the
# holder is stuck (a hung network file system), and saying so beats waiting forever.
_WRITE_LOCK_TIMEOUT = 60.0
_GITIGNORE = "# Written by provisioner: its local state must never be committed.\n*\n"


def _version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalBackend:
    """One stack's objects in `directory` (created on the first write)."""

    def __init__(self, directory: Path) -> None:
        self._dir = Path(directory).absolute()
        # The stack lock while this instance holds it: the OS lock and the record written.
        self._held: tuple[FileLock, LockInfo] | None = None

    @property
    def location(self) -> str:
        with contextlib.suppress(ValueError, OSError):
            return str(self._dir.relative_to(Path.cwd()))
        return str(self._dir)

    @property
    def directory(self) -> Path:
        return self._dir

    # -- objects --------------------------------------------------------------------------------

    def read(self, key: str) -> Blob | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as e:
            raise self._error(f"cannot read {key}", e) from e
        return Blob(data=data, version=_version(data))

    def write(self, key: str, data: bytes, *, replaces: str | None) -> str:
        path = self._path(key)
        self._ensure_dir()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise self._error(f"cannot create the folder for {key}", e) from e
        with self._objects_lock():
            current = self._current_version(path)
            if replaces is None and current is not None:
                raise WriteConflict(f"{key} already exists in {self.location}")
            if replaces is not None and current != replaces:
                raise WriteConflict(f"{key} in {self.location} changed since it was read")
            self._replace(path, data, what=key)
        return _version(data)

    def delete(self, key: str) -> None:
        path = self._path(key)
        if not self._dir.is_dir():
            return
        with self._objects_lock():
            try:
                path.unlink(missing_ok=True)
            except (NotADirectoryError, IsADirectoryError):
                return
            except OSError as e:
                raise self._error(f"cannot delete {key}", e) from e

    def keys(self, prefix: str) -> list[str]:
        check_prefix(prefix)
        found: list[str] = []
        # os.walk ignores errors by default; a folder that cannot be listed must not look empty.
        failures: list[OSError] = []
        for folder, subfolders, files in os.walk(self._dir, onerror=failures.append):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            relative = Path(folder).relative_to(self._dir)
            for name in files:
                if name.startswith(".") or (relative == Path() and name in (_LOCK, _RECORD)):
                    continue
                key = (relative / name).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        real = [f for f in failures if not isinstance(f, FileNotFoundError)]
        if real:
            raise self._error("cannot list the state folder", real[0])
        return sorted(found)

    # -- the stack lock -------------------------------------------------------------------------

    def acquire(self, info: LockInfo) -> None:
        if self._held is not None:
            raise LockHeld(self.location, self._held[1])
        self._ensure_dir()
        lock = FileLock(str(self._dir / _LOCK), thread_local=False)
        try:
            lock.acquire(blocking=False)
        except Timeout:
            raise LockHeld(self.location, self._record()) from None
        except OSError as e:
            raise self._error("cannot take the state lock", e) from e
        try:
            self._replace(self._dir / _RECORD, info.to_json(), what=_RECORD)
        except BaseException:
            lock.release(force=True)
            raise
        self._held = (lock, info)

    def release(self, lock_id: str) -> None:
        if self._held is None or self._held[1].id != lock_id:
            return
        lock, _ = self._held
        try:
            # Removed while the OS lock is still ours, so it can never be the next holder's.
            (self._dir / _RECORD).unlink(missing_ok=True)
        except OSError:
            pass  # a stale record is harmless: `holder()` asks the OS, not the file
        finally:
            self._held = None
            lock.release(force=True)

    def holder(self) -> LockInfo | None:
        if self._held is not None:
            return self._held[1]
        with self._probe() as free:
            if free:
                return None
        info = self._record()
        if info is None:
            raise LockHeld(self.location, None)
        return info

    def force_unlock(self, lock_id: str) -> LockInfo:
        if self._held is not None and self._held[1].id == lock_id:
            mine = self._held[1]
            self.release(lock_id)
            return mine
        with self._probe() as free:
            if free:
                raise BackendError(
                    f"the state lock at {self.location} is not held (a process that held it "
                    "has ended, and the operating system released its lock); nothing to unlock"
                )
        info = self._record()
        if info is None:
            raise BackendError(
                f"the state lock at {self.location} is held by a running process (its record "
                "cannot be read); a local lock is released when its process exits: stop that "
                "process instead of forcing the lock"
            )
        other = "" if info.id == lock_id else f" under id {info.id}, not {lock_id},"
        raise BackendError(
            f"the state lock at {self.location} is held{other} by process {info.pid} on "
            f"{info.host} ({info.who}, {info.operation}), which is still running; a local lock "
            "is released when its process exits: stop that process instead of forcing the lock"
        )

    # -- helpers --------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self._dir.joinpath(*check_key(key).split("/"))

    def _error(self, what: str, e: OSError) -> BackendError:
        reason = e.strerror or type(e).__name__
        return BackendError(f"{what} in {self.location}: {reason}")

    def _ensure_dir(self) -> None:
        if self._dir.is_dir():
            return
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            # The default folder sits in the user's repository: keep it out of every commit.
            folders = (self._dir, *self._dir.parents)
            owner = next((d for d in folders if d.name == ".provisioner"), None)
            if owner is not None and not (owner / ".gitignore").exists():
                (owner / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
        except OSError as e:
            raise self._error("cannot create the state folder", e) from e

    @contextlib.contextmanager
    def _objects_lock(self) -> Iterator[None]:
        lock = FileLock(str(self._dir / _OBJECTS_LOCK), timeout=_WRITE_LOCK_TIMEOUT)
        try:
            lock.acquire()
        except Timeout:
            raise BackendError(
                f"another process has held the write lock of {self.location} for "
                f"{_WRITE_LOCK_TIMEOUT:.0f} s (file {_OBJECTS_LOCK}); is its file system hung?"
            ) from None
        except OSError as e:
            raise self._error("cannot take the write lock", e) from e
        try:
            yield
        finally:
            lock.release(force=True)

    @contextlib.contextmanager
    def _probe(self) -> Iterator[bool]:
        """Whether the stack lock is free, asked of the OS by trying to take it; while `True`
        is in hand the lock is ours, so a stale record can be removed safely."""
        path = self._dir / _LOCK
        if not path.exists():
            yield True
            return
        probe = FileLock(str(path), thread_local=False)
        try:
            probe.acquire(blocking=False)
        except Timeout:
            yield False
            return
        except OSError as e:
            raise self._error("cannot check the state lock", e) from e
        try:
            # Left behind by a holder that was killed: the OS released its lock, not this file.
            with contextlib.suppress(OSError):
                (self._dir / _RECORD).unlink(missing_ok=True)
            yield True
        finally:
            probe.release(force=True)

    def _record(self) -> LockInfo | None:
        try:
            data = (self._dir / _RECORD).read_bytes()
        except OSError:
            return None
        return LockInfo.from_json(data)

    def _current_version(self, path: Path) -> str | None:
        try:
            return _version(path.read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise self._error(f"cannot read {path.name}", e) from e

    def _replace(self, path: Path, data: bytes, *, what: str) -> None:
        """Write `path` so that readers see the old bytes or the new ones, never a mix, and the
        new ones survive a power cut once this returns."""
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            Path(temporary).replace(path)
        except OSError as e:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise self._error(f"cannot write {what}", e) from e
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise
        if os.name == "posix":
            # The rename itself lives in the folder: sync it too, or a crash can undo it.
            with contextlib.suppress(OSError):
                folder = os.open(path.parent, os.O_RDONLY)
                try:
                    os.fsync(folder)
                finally:
                    os.close(folder)
