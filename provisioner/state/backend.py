"""What a state backend is: a small object store scoped to one stack, with a lock.

Everything provisioner keeps about a stack (the state document, the fingerprint key, the
history records, the lock) is an object under a key such as `state.json` or
`history/20261128T171500Z-1a2b.json`. A backend stores bytes and offers the two conditional
writes the rest is built on: create-if-absent (S3 `If-None-Match: *`) and replace-if-unchanged
(S3 `If-Match` on the ETag). The state document, the history and the lock protocol are written
once, over this interface (`state.store`), and the contract suite (tests/state) runs against
every backend.

Rule: nothing here knows what an endpoint is, and no message carries object contents.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Protocol


class BackendError(Exception):
    """The backend cannot be used (unreachable, denied, misconfigured); the message says which,
    in words a person can act on, and names the location."""


class WriteConflict(BackendError):
    """A conditional write lost: the object exists (create) or changed since it was read
    (replace). Another writer got there first; nothing was overwritten."""


@dataclass(frozen=True)
class Blob:
    """An object's bytes and the version a replace must name (S3: the ETag)."""

    data: bytes
    version: str


@dataclass(frozen=True, kw_only=True)
class LockInfo:
    """Who holds a stack's lock, as `state unlock` and the "lock is held" error show it."""

    id: str
    operation: str  # apply, destroy, state ...
    who: str
    host: str
    pid: int
    created: str  # ISO 8601, UTC
    ci_url: str | None = None

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> LockInfo | None:
        """The lock record, or None when it cannot be read as one (a holder writing it, or a
        damaged file): the lock is still held, its holder is just unknown."""
        try:
            raw: Any = json.loads(data)
            return cls(
                id=str(raw["id"]),
                operation=str(raw["operation"]),
                who=str(raw["who"]),
                host=str(raw["host"]),
                pid=int(raw["pid"]),
                created=str(raw["created"]),
                ci_url=None if raw.get("ci_url") is None else str(raw["ci_url"]),
            )
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None


class LockHeld(BackendError):
    """Someone else holds the lock. `holder` is None when the record could not be read."""

    def __init__(self, location: str, holder: LockInfo | None) -> None:
        super().__init__(f"the state lock at {location} is held")
        self.location = location
        self.holder = holder


class LockNotReleased(BackendError):
    """The block under the lock finished, but the lock could not be released: it stays until
    `provisioner state unlock` releases it."""

    def __init__(self, lock_id: str, cause: BackendError) -> None:
        super().__init__(f"the state lock {lock_id} could not be released: {cause}")
        self.lock_id = lock_id
        self.cause = cause


class Backend(Protocol):
    """One stack's objects. Keys are relative, `/`-separated, without `..`."""

    @property
    def location(self) -> str:
        """Where the objects live, for messages: `.provisioner/prod`, `s3://bucket/p/prod`."""
        ...

    def read(self, key: str) -> Blob | None:
        """The object, or None when there is none."""
        ...

    def write(self, key: str, data: bytes, *, replaces: str | None) -> str:
        """Store `data` under `key` and return its new version. `replaces=None`: only if no
        object exists; otherwise only if the current version is `replaces`. A lost condition
        raises `WriteConflict` and changes nothing. Readers never see a partial object."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; no error when there is none."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """The keys starting with `prefix`, sorted."""
        ...

    def acquire(self, info: LockInfo) -> None:
        """Take the stack's lock for `info`, or raise `LockHeld` (with the holder) at once; it
        never waits (`state.store` does the waiting, with backoff)."""
        ...

    def release(self, lock_id: str) -> None:
        """Release the lock taken as `lock_id` by this process; no error when it is not held."""
        ...

    def holder(self) -> LockInfo | None:
        """Who holds the lock now, or None when it is free. Raises `LockHeld` (holder None)
        when it is held but its record cannot be read (being written, or damaged)."""
        ...

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Break the lock held as `lock_id` (its holder was killed) and return whom it was held
        by. Raises `BackendError` when the lock is not held, is held under another id, or
        cannot be broken (a local lock whose holder is still running)."""
        ...
