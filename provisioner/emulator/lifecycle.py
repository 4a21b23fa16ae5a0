"""The endpoint state machine, as timelines of timestamped segments.

Every operation replaces an endpoint's timeline with the segments it will go through (e.g. create:
pending at t, initializing at t+3, running at t+15). Reading an endpoint "settles" it: segments
whose time has come become current. Nothing ticks, so the result depends only on emulated time,
which makes every test deterministic. Automatic scale-to-zero is the one transition that depends on
traffic, and is computed from the idle timer when settling.

This module owns the states, their messages, which segments each operation produces and the settling
rule; settling also writes each segment's log lines once (`logs.py` has their words). It must not
check permissions, quotas or hardware (the store does) nor render JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from provisioner.emulator.config import Durations
from provisioner.emulator.hardware import QuotaKey
from provisioner.emulator.logs import LOG_LIMIT, segment_lines


class State(StrEnum):
    PENDING = "pending"
    INITIALIZING = "initializing"
    UPDATING = "updating"
    UPDATE_FAILED = "updateFailed"
    RUNNING = "running"
    PAUSED = "paused"
    FAILED = "failed"
    SCALED_TO_ZERO = "scaledToZero"


# Messages quoted from huggingface_hub's fixtures where one exists (pending, running, updating,
# failed); the others are the emulator's wording.
MESSAGES = {
    State.PENDING: "Endpoint waiting to be scheduled",
    State.INITIALIZING: "Endpoint is initializing",
    State.UPDATING: "Endpoint waiting for the update",
    State.UPDATE_FAILED: "Endpoint failed to update",
    State.RUNNING: "Endpoint is ready",
    State.PAUSED: "Endpoint is paused",
    State.FAILED: "Endpoint failed to deploy",
    State.SCALED_TO_ZERO: "Endpoint is scaled to zero",
}
SCALING_UP_MESSAGE = "Endpoint is scaling up"  # the same words as `logs.SCALING_UP`

# States that hold quota: everything but paused and failed (official docs: a paused endpoint does
# not count against quota, a scaled-to-zero one does).
QUOTA_FREE = frozenset({State.PAUSED, State.FAILED})


@dataclass(frozen=True)
class Segment:
    at: float  # emulated seconds when this segment starts
    state: State
    message: str
    url: bool  # whether `status.url` is shown during this segment

    def to_json(self) -> list[Any]:
        return [self.at, self.state.value, self.message, self.url]

    @classmethod
    def from_json(cls, raw: list[Any]) -> Segment:
        return cls(float(raw[0]), State(raw[1]), str(raw[2]), bool(raw[3]))


def seg(at: float, state: State, *, url: bool, message: str | None = None) -> Segment:
    return Segment(at, state, message or MESSAGES[state], url)


def _start(now: float, pending: float, starting: float, failure: str | None) -> list[Segment]:
    """pending (no url) -> initializing -> running, or failed with the scripted message."""
    ready = now + pending + starting
    last = (
        seg(ready, State.FAILED, url=False, message=failure)
        if failure is not None
        else seg(ready, State.RUNNING, url=True)
    )
    return [
        seg(now, State.PENDING, url=False),
        seg(now + pending, State.INITIALIZING, url=False),
        last,
    ]


def deploy(now: float, d: Durations, *, failure: str | None = None) -> list[Segment]:
    """create: pending -> initializing -> running (or failed with the scripted message)."""
    return _start(now, d.pending, d.initializing, failure)


def resume(now: float, d: Durations, *, failure: str | None = None) -> list[Segment]:
    """resume from paused: pending (no url, as in the client guide) -> initializing -> running."""
    return _start(now, d.pending, d.resume, failure)


def update(now: float, d: Durations, *, url: bool, failure: str | None = None) -> list[Segment]:
    """PUT on a deployed endpoint: updating (url kept if it had one) -> running / updateFailed."""
    done = now + d.updating
    last = (
        seg(done, State.UPDATE_FAILED, url=url, message=failure)
        if failure is not None
        else seg(done, State.RUNNING, url=True)
    )
    return [seg(now, State.UPDATING, url=url), last]


def wake(now: float, d: Durations) -> list[Segment]:
    """First request to a scaled-to-zero endpoint: a replica starts, then it runs again."""
    return [
        seg(now, State.INITIALIZING, url=True, message=SCALING_UP_MESSAGE),
        seg(now + d.scale_up, State.RUNNING, url=True),
    ]


def still(now: float, state: State, *, url: bool) -> list[Segment]:
    return [seg(now, state, url=url)]


@dataclass
class Record:
    """One endpoint as the store keeps it. Mutated only under the store's lock."""

    namespace: str
    name: str
    spec: dict[str, Any]
    created_at: float
    created_by: str
    updated_at: float
    updated_by: str
    timeline: list[Segment]
    last_request_at: float | None = None
    deleted_at: float | None = None
    # Which creation of this name it is (1: the first): a re-created endpoint (a replacement)
    # gets a new URL, as on the real service, whose URLs are new for each endpoint made.
    generation: int = 1
    held: tuple[QuotaKey, int] | None = field(default=None, compare=False)
    # Bumped whenever anything rendered changes; keys the cached JSON of the endpoint.
    rev: int = field(default=0, compare=False)
    rendered: tuple[tuple[int, str, bool, bool, bool], str] | None = field(
        default=None, compare=False, repr=False
    )
    # The replica logs (`logs.py`): (emulated time, text), oldest first, at most `LOG_LIMIT`;
    # and the segment whose lines were written last (each segment's are written once).
    log: list[tuple[float, str]] = field(default_factory=list, compare=False, repr=False)
    noted: Segment | None = field(default=None, compare=False, repr=False)

    @property
    def current(self) -> Segment:
        return self.timeline[0]

    @property
    def state(self) -> State:
        return self.timeline[0].state

    def settle(self, now: float) -> bool:
        """Make the segment due at `now` current; apply automatic scale-to-zero. True if the state
        changed. Called on every read, so it must stay O(1) in the common case."""
        before = self.timeline[0]
        self.note()  # a timeline an operation has just replaced
        while len(self.timeline) > 1 and self.timeline[1].at <= now:
            self.timeline.pop(0)
            self.note()  # every segment passed through logs its lines, not only the last
        due = self.idle_deadline()
        if due is not None and now >= due:
            self.timeline = [seg(due, State.SCALED_TO_ZERO, url=True)]
            self.note()
        if self.timeline[0] is before:
            return False
        self.rev += 1
        return self.timeline[0].state != before.state

    def note(self) -> None:
        """Write the current segment's log lines, unless they are written already."""
        current = self.timeline[0]
        if self.noted is current:
            return
        previous = self.noted.state.value if self.noted is not None else None
        self.noted = current
        lines = segment_lines(
            current.state.value, current.message, spec=self.spec, previous=previous
        )
        self.write(current.at, *lines)

    def write(self, at: float, *texts: str) -> None:
        """Append log lines stamped `at` (emulated seconds)."""
        self.log.extend((at, text) for text in texts)
        if len(self.log) > LOG_LIMIT:
            del self.log[: len(self.log) - LOG_LIMIT]

    def idle_deadline(self) -> float | None:
        """When a running endpoint with `minReplica == 0` scales to zero if nobody calls it: after
        `scaleToZeroTimeout` minutes without a request (counted from when it started running)."""
        if self.deleted_at is not None or len(self.timeline) > 1:
            return None
        cur = self.timeline[0]
        scaling = self.spec["compute"]["scaling"]
        timeout = scaling["scaleToZeroTimeout"]
        if cur.state is not State.RUNNING or scaling["minReplica"] != 0 or not timeout:
            return None
        idle_from = max(cur.at, self.last_request_at if self.last_request_at is not None else 0.0)
        return float(idle_from + timeout * 60)

    def pending_failure(self) -> bool:
        """Whether a scheduled segment will free quota (a deploy scripted to fail)."""
        return any(s.state in QUOTA_FREE for s in self.timeline[1:])

    def to_json(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "spec": self.spec,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "updatedAt": self.updated_at,
            "updatedBy": self.updated_by,
            "timeline": [s.to_json() for s in self.timeline],
            "lastRequestAt": self.last_request_at,
            "deletedAt": self.deleted_at,
            "log": [[at, text] for at, text in self.log],
            "generation": self.generation,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Record:
        log = [(float(at), str(text)) for at, text in raw.get("log") or []]
        rec = cls(
            namespace=raw["namespace"],
            name=raw["name"],
            spec=raw["spec"],
            created_at=float(raw["createdAt"]),
            created_by=raw["createdBy"],
            updated_at=float(raw["updatedAt"]),
            updated_by=raw["updatedBy"],
            timeline=[Segment.from_json(s) for s in raw["timeline"]],
            last_request_at=raw.get("lastRequestAt"),
            deleted_at=raw.get("deletedAt"),
            log=log,
            generation=int(raw.get("generation", 1)),
        )
        # A data file written before logs has none: the current segment then logs its lines.
        rec.noted = rec.timeline[0] if log else None
        return rec
