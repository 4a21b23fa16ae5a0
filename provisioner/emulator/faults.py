"""Fault injection: random transient errors at a seeded rate, and scripted faults.

Scripted faults (the JSON of `POST /admin/faults` and `Emulator.add_fault`):
- `{"kind": "fail_deploy", "namespace": "demo", "name": "ep", "message": "..."}`: the next deploy
  (create or resume) of that endpoint ends `failed` with the message.
- `{"kind": "fail_update", "namespace": ..., "name": ..., "message": ...}`: its next update ends
  `updateFailed`.
- `{"kind": "drop_field", "namespace": ..., "name": ..., "field": "compute.scaling.maxReplica"}`:
  its next PUT is answered as accepted, but without the dotted key `field` of its body (the
  endpoint keeps what it had there): a service that takes an update and reports another value.
- `{"kind": "http", "method": "POST", "path": "/v2/endpoint/*", "status": 503, "count": 2,
  "retry_after": 3, "message": "...", "after": false}`: the next `count` requests matching the
  method (`*` = any) and the path glob fail with `status`; `after: true` performs the operation
  first and then answers the error (a lost response); `status: 200` with `after: true` answers a
  200 whose body is `{"error": message}`: an answer a client cannot read. A 3xx `status` needs
  `"location": "http://elsewhere/..."`, sent as the answer's `Location` header: a redirect (of a
  DELETE, say) that a careful client must not follow. `echo_body: true` quotes the request's
  body after the message, as some validation errors do (a 422 repeating the PUT, secret values
  and all): a client must not print or store what it sent back.
- `{"kind": "corrupt_listing", "namespace": "demo", "name": "ep", "remove": ["status"],
  "set": {"model": "oops"}}`: that endpoint's item in every list response has the dotted keys in
  `remove` deleted and those in `set` replaced, until the faults are cleared (GET of the one
  endpoint is untouched): a listed item a client cannot read.

Owns parsing, matching and consuming faults; deterministic for a given seed and request order. It
must not touch endpoints: the store asks for deploy/update failures, the service for HTTP ones.
"""

from __future__ import annotations

import fnmatch
import itertools
import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

ENDPOINT_KINDS = ("fail_deploy", "fail_update")
DROP_KIND = "drop_field"
RANDOM_STATUSES = (429, 500, 503)
LISTING_KIND = "corrupt_listing"


class FaultError(ValueError):
    """A fault description is malformed."""


@dataclass(frozen=True)
class EndpointFault:
    id: str
    kind: str
    namespace: str
    name: str
    message: str
    field: str = ""  # drop_field: the dotted key its PUT loses


@dataclass
class HttpFault:
    id: str
    method: str
    path: str
    status: int
    count: int
    retry_after: int | None
    message: str
    after: bool
    kind: str = "http"
    location: str | None = None
    echo_body: bool = False


@dataclass(frozen=True)
class ListingFault:
    id: str
    namespace: str
    name: str
    remove: tuple[str, ...]
    set: dict[str, Any]
    kind: str = LISTING_KIND


@dataclass(frozen=True)
class Injected:
    """An error to answer instead of (or, `after=True`, after) handling a request."""

    status: int
    message: str
    retry_after: int | None
    after: bool
    source: str  # "scripted" | "random"
    location: str | None = None  # a redirect's Location
    echo_body: bool = False  # the message quotes the request's body


class Faults:
    def __init__(self, rate: float = 0.0, seed: int | None = None) -> None:
        self._rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._endpoint: list[EndpointFault] = []
        self._http: list[HttpFault] = []
        self._listing: list[ListingFault] = []

    def add(self, raw: object) -> dict[str, Any]:
        fault = self._parse(raw)
        with self._lock:
            if isinstance(fault, EndpointFault):
                self._endpoint.append(fault)
            elif isinstance(fault, ListingFault):
                self._listing.append(fault)
            else:
                self._http.append(fault)
        return asdict(fault)

    def clear(self) -> None:
        with self._lock:
            self._endpoint.clear()
            self._http.clear()
            self._listing.clear()

    def listing(self) -> list[dict[str, Any]]:
        with self._lock:
            return (
                [asdict(f) for f in self._endpoint]
                + [asdict(f) for f in self._http]
                + [asdict(f) for f in self._listing]
            )

    def listing_corruptions(self, namespace: str) -> dict[str, list[ListingFault]]:
        """The `corrupt_listing` faults of a namespace, by endpoint name (not consumed)."""
        with self._lock:
            found: dict[str, list[ListingFault]] = {}
            for fault in self._listing:
                if fault.namespace == namespace:
                    found.setdefault(fault.name, []).append(fault)
            return found

    def take_endpoint(self, kind: str, *, namespace: str, name: str) -> str | None:
        """Consume the oldest `kind` fault for that endpoint; its message, or None."""
        fault = self._take(kind, namespace, name)
        return None if fault is None else fault.message

    def take_dropped_field(self, *, namespace: str, name: str) -> str | None:
        """Consume the oldest `drop_field` fault for that endpoint; its dotted key, or None."""
        fault = self._take(DROP_KIND, namespace, name)
        return None if fault is None else fault.field

    def _take(self, kind: str, namespace: str, name: str) -> EndpointFault | None:
        with self._lock:
            for fault in self._endpoint:
                if (fault.kind, fault.namespace, fault.name) == (kind, namespace, name):
                    self._endpoint.remove(fault)
                    return fault
        return None

    def for_request(self, method: str, path: str) -> Injected | None:
        with self._lock:
            for fault in self._http:
                if fault.method in ("*", method) and fnmatch.fnmatchcase(path, fault.path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._http.remove(fault)
                    return Injected(
                        fault.status,
                        fault.message,
                        fault.retry_after,
                        fault.after,
                        "scripted",
                        fault.location,
                        echo_body=fault.echo_body,
                    )
            # Random faults only hit the API proper: the hub routes and the endpoints' own URLs
            # stay reliable, so a demo's whoami and health checks do not flap.
            if self._rate > 0 and path.startswith("/v2/") and self._rng.random() < self._rate:
                status = self._rng.choice(RANDOM_STATUSES)
                retry = self._rng.randint(1, 5) if status == 429 else None
                return Injected(status, _random_message(status, retry), retry, False, "random")
        return None

    def _parse(self, raw: object) -> EndpointFault | HttpFault | ListingFault:
        if not isinstance(raw, dict):
            raise FaultError("a fault is a JSON object")
        kind = raw.get("kind")
        fid = f"fault-{next(self._ids)}"
        if kind == LISTING_KIND:
            return _listing_fault(raw, fid)
        if kind == DROP_KIND:
            return _drop_fault(raw, fid)
        if kind in ENDPOINT_KINDS:
            _only(raw, {"kind", "namespace", "name", "message"})
            default = (
                "Endpoint failed to deploy"
                if kind == "fail_deploy"
                else ("Endpoint failed to update")
            )
            return EndpointFault(
                id=fid,
                kind=str(kind),
                namespace=_text(raw, "namespace"),
                name=_text(raw, "name"),
                message=_text(raw, "message", default),
            )
        if kind == "http":
            _only(
                raw,
                {
                    "kind",
                    "method",
                    "path",
                    "status",
                    "count",
                    "retry_after",
                    "message",
                    "after",
                    "location",
                    "echo_body",
                },
            )
            status = _int(raw, "status", None)
            location = raw.get("location")
            redirect = 300 <= status <= 399 and isinstance(location, str) and bool(location)
            if not (
                400 <= status <= 599 or (status == 200 and raw.get("after") is True) or redirect
            ):
                raise FaultError(
                    "status: expected an HTTP error status (400-599), 200 with after: true, or "
                    "a redirect (300-399) with a location"
                )
            retry = raw.get("retry_after")
            return HttpFault(
                id=fid,
                method=_text(raw, "method", "*").upper(),
                path=_text(raw, "path"),
                status=status,
                count=_int(raw, "count", 1),
                retry_after=None if retry is None else _int(raw, "retry_after", None),
                message=_text(raw, "message", "emulated fault"),
                after=bool(raw.get("after", False)),
                location=location if redirect else None,
                echo_body=bool(raw.get("echo_body", False)),
            )
        kinds = [*ENDPOINT_KINDS, DROP_KIND, "http", LISTING_KIND]
        raise FaultError(f"kind: expected one of {kinds}, got {kind!r}")


def _drop_fault(raw: dict[str, Any], fid: str) -> EndpointFault:
    _only(raw, {"kind", "namespace", "name", "field"})
    return EndpointFault(
        id=fid,
        kind=DROP_KIND,
        namespace=_text(raw, "namespace"),
        name=_text(raw, "name"),
        message="",
        field=_text(raw, "field"),
    )


def _listing_fault(raw: dict[str, Any], fid: str) -> ListingFault:
    _only(raw, {"kind", "namespace", "name", "remove", "set"})
    remove, patch = raw.get("remove", []), raw.get("set", {})
    if not isinstance(remove, list) or not all(isinstance(p, str) and p for p in remove):
        raise FaultError("remove: expected a list of dotted key paths")
    if not isinstance(patch, dict):
        raise FaultError("set: expected an object of dotted key path -> value")
    if not remove and not patch:
        raise FaultError("a corrupt_listing fault needs `remove` or `set`")
    return ListingFault(
        id=fid,
        namespace=_text(raw, "namespace"),
        name=_text(raw, "name"),
        remove=tuple(remove),
        set=dict(patch),
    )


def _pop(item: dict[str, Any], path: str) -> None:
    """Delete the dotted key `path` from `item`, in place, if it is there."""
    *parents, last = path.split(".")
    target: Any = item
    for part in parents:
        target = target.get(part) if isinstance(target, dict) else None
    if isinstance(target, dict):
        target.pop(last, None)


def without(body: dict[str, Any], path: str) -> dict[str, Any]:
    """A copy of a request body without the dotted key `path` (a `drop_field` fault). Only the
    mappings along the path are copied: the rest (and the `RESET` marker, compared by identity)
    is shared with `body`."""
    *parents, last = path.split(".")
    copied = dict(body)
    target = copied
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            return copied
        target[part] = dict(child)
        target = target[part]
    target.pop(last, None)
    return copied


def corrupt(item: dict[str, Any], fault: ListingFault) -> None:
    """Apply a `corrupt_listing` fault to one rendered list item, in place."""
    for path in fault.remove:
        _pop(item, path)
    for path, value in fault.set.items():
        *parents, last = path.split(".")
        target: Any = item
        for part in parents:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[last] = value


def _random_message(status: int, retry_after: int | None) -> str:
    if status == 429:
        return f"Rate limit exceeded, retry in {retry_after} seconds (emulated fault)"
    return "emulated fault"


def _only(raw: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise FaultError(f"unknown key(s) {unknown}; expected some of {sorted(allowed)}")


def _text(raw: dict[str, Any], key: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise FaultError(f"{key}: expected a non-empty string")
    return value


def _int(raw: dict[str, Any], key: str, default: int | None) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or (value < 1 and key != "status"):
        raise FaultError(f"{key}: expected a positive integer")
    return value
