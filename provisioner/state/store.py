"""A stack's state over any backend: the lock (waiting with backoff), the state document
(written only over the version read: a concurrent writer is detected, never overwritten), the
fingerprint key and the history.

Written once, over the `Backend` protocol; the contract suite runs it against every backend.
Time and waiting are injected (`now`, `clock`, `sleep`): nothing here reads the environment.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import datetime

from provisioner.state.backend import (
    Backend,
    BackendError,
    LockHeld,
    LockInfo,
    LockNotReleased,
    WriteConflict,
)
from provisioner.state.model import (
    FINGERPRINT_KEY,
    HISTORY_PREFIX,
    STATE_KEY,
    HistoryRecord,
    StackState,
    StateFormatError,
)

# Waiting for a held lock: first retry after this many seconds, doubling up to the maximum.
FIRST_WAIT = 1.0
MAX_WAIT = 10.0


class StateConflict(BackendError):
    """The state changed between reading and writing it (another writer); nothing was lost."""


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC, to the second, as the state and history show times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class StateStore:
    def __init__(
        self,
        backend: Backend,
        stack: str,
        *,
        now: Callable[[], datetime],
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.backend = backend
        self.stack = stack
        self._now = now
        self._new_id = new_id

    @property
    def location(self) -> str:
        return self.backend.location

    def now(self) -> str:
        return timestamp(self._now())

    def new_id(self) -> str:
        return self._new_id()

    def lock_info(
        self, operation: str, *, who: str, host: str, pid: int, ci_url: str | None
    ) -> LockInfo:
        return LockInfo(
            id=self.new_id(),
            operation=operation,
            who=who,
            host=host,
            pid=pid,
            created=self.now(),
            ci_url=ci_url,
        )

    # -- the lock ---------------------------------------------------------------------------

    @contextmanager
    def locked(
        self,
        info: LockInfo,
        *,
        timeout: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        on_wait: Callable[[LockInfo | None, float], None] | None = None,
    ) -> Iterator[LockInfo]:
        """Hold the stack's lock for the block. A held lock is retried with backoff until
        `timeout` seconds have passed (0: not at all), then `LockHeld` names its holder."""
        deadline, delay = clock() + timeout, FIRST_WAIT
        while True:
            try:
                self.backend.acquire(info)
                break
            except LockHeld as held:
                left = deadline - clock()
                if left <= 0:
                    raise
                wait = min(delay, left)
                if on_wait is not None:
                    on_wait(held.holder, wait)
                sleep(wait)
                delay = min(delay * 2, MAX_WAIT)
        finished = False
        try:
            yield info
            finished = True
        finally:
            try:
                self.backend.release(info.id)
            except BackendError as error:
                # After a failure in the block, that failure goes on; the lock left behind is
                # named, with its unlock command, by the next run that finds it.
                if finished:
                    raise LockNotReleased(info.id, error) from error

    def holds(self, lock_id: str) -> bool:
        """Whether the lock is still held as `lock_id`: False once someone broke it (a forced
        unlock), or when its record cannot be read."""
        try:
            holder = self.backend.holder()
        except BackendError:
            return False
        return holder is not None and holder.id == lock_id

    def unlock(self, lock_id: str) -> LockInfo:
        """Break a lock whose holder died (`provisioner state unlock`)."""
        return self.backend.force_unlock(lock_id)

    # -- the state document -----------------------------------------------------------------

    def read(self) -> StackState:
        """The stack's state; an empty one (serial 0) when none was written yet."""
        blob = self.backend.read(STATE_KEY)
        if blob is None:
            return StackState(stack=self.stack)
        state = StackState.loads(blob.data, version=blob.version, where=self._where(STATE_KEY))
        if state.stack != self.stack:
            raise StateFormatError(
                f"{self._where(STATE_KEY)}: holds the state of stack {state.stack!r}, not "
                f"{self.stack!r}"
            )
        return state

    def write(self, state: StackState) -> StackState:
        """Store `state` over the version it was read at, as the next serial. Another writer
        in between raises `StateConflict`, and nothing is overwritten."""
        written = replace(
            state,
            serial=state.serial + 1,
            lineage=state.lineage or self._new_id(),
        )
        data = written.dumps()
        try:
            version = self.backend.write(STATE_KEY, data, replaces=state.version)
        except WriteConflict as error:
            if (current := self._written(STATE_KEY, data)) is not None:
                return replace(written, version=current)
            raise StateConflict(
                f"the state at {self._where(STATE_KEY)} was changed by another writer since "
                f"it was read (serial {state.serial}); nothing was overwritten"
            ) from error
        return replace(written, version=version)

    def fingerprint_key(self, *, create: bool) -> bytes | None:
        """The stack's random fingerprint key; made on first use when `create` (two runs
        making it at once agree: the second one reads the first's)."""
        blob = self.backend.read(FINGERPRINT_KEY)
        if blob is None and create:
            with suppress(WriteConflict):
                self.backend.write(FINGERPRINT_KEY, secrets.token_hex(32).encode(), replaces=None)
            blob = self.backend.read(FINGERPRINT_KEY)
        if blob is None:
            return None
        try:
            return bytes.fromhex(blob.data.decode("ascii").strip())
        except ValueError as error:
            raise StateFormatError(
                f"{self._where(FINGERPRINT_KEY)}: not a fingerprint key; remove it to start "
                "afresh (every secret is then sent again once)"
            ) from error

    # -- history ----------------------------------------------------------------------------

    def append(self, record: HistoryRecord) -> None:
        """Add a record; records never overwrite each other (one object each)."""
        moment = record.started.replace("-", "").replace(":", "")
        # The serial orders records of the same second (time stamps have whole seconds, and
        # the ID is random): the history lists them newest first all the same.
        serial = f"{record.serial or 0:010d}"
        key, data = f"{HISTORY_PREFIX}{moment}-{serial}-{record.id}.json", record.dumps()
        try:
            self.backend.write(key, data, replaces=None)
        except WriteConflict:
            if self._written(key, data) is None:
                raise

    def _written(self, key: str, data: bytes) -> str | None:
        """The version of `key` if it holds exactly `data`: a write whose answer was lost (a
        reset after the store wrote it) is sent again by the S3 client, and the resent one
        fails its own condition. Every document this store writes is unique (a serial, a
        record's id), so the same bytes there are that first write, not another writer's."""
        try:
            current = self.backend.read(key)
        except BackendError:
            return None
        return current.version if current is not None and current.data == data else None

    def history(self, limit: int | None = None) -> list[HistoryRecord]:
        """The records, newest first; at most `limit` of them. A record that cannot be read
        stops it (`readable_history` reads past it)."""
        records, problems = self.readable_history(limit)
        if problems:
            raise problems[0]
        return records

    def readable_history(
        self, limit: int | None = None
    ) -> tuple[list[HistoryRecord], list[StateFormatError]]:
        """The records that can be read, newest first (at most `limit` of the newest records
        are looked at), and why each other one cannot: one bad record hides no other."""
        keys = sorted(self.backend.keys(HISTORY_PREFIX), reverse=True)
        records, problems = [], []
        for key in keys[:limit] if limit is not None else keys:
            blob = self.backend.read(key)
            if blob is None:
                continue
            try:
                records.append(HistoryRecord.loads(blob.data, where=self._where(key)))
            except StateFormatError as error:
                problems.append(error)
        return records, problems

    def _where(self, key: str) -> str:
        return f"{self.location.rstrip('/')}/{key}"
