"""Requests to an endpoint's own URL (`status.url` = `{base}/endpoints/{ns}/{name}`).

Owns what a deployed endpoint answers: `GET {url}{healthRoute}` is 200 only while running (503
otherwise, which is what `InferenceEndpoint.wait()` polls); `POST {url}` runs the task's
deterministic inference; `POST {url}/v1/chat/completions` is served for text-generation endpoints.
Access follows `type`: public needs nothing, authenticated needs a token of someone who can access
the namespace, private is refused (only reachable through PrivateLink). Any request resets the idle
timer, and a request to a scaled-to-zero endpoint gets 503 and wakes it, as the real service does.

`X-Scale-Up-Timeout: <seconds>` (the documented header) makes a request to an endpoint that is
starting (woken from zero, initializing, updating) wait, on the emulated clock, until it runs or
that many seconds passed (then 503). The wait sleeps outside the lock, a little at a time, so other
requests and `advance()` go on meanwhile. With a frozen clock (speed 0) nothing can pass while a
request waits, so the header is ignored there: 503 at once, as without it.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import Directory
from provisioner.emulator.clock import Clock
from provisioner.emulator.inference import chat_completion, infer
from provisioner.emulator.lifecycle import Record, State
from provisioner.emulator.render import split_generation
from provisioner.emulator.schema import endpoint_health_route
from provisioner.emulator.store import Store
from provisioner.emulator.wire import ApiError, Request, Response, json_response

CHAT_ROUTE = "v1/chat/completions"
CHAT_TASKS = frozenset({"text-generation", "text2text-generation"})
# States whose endpoint has no replica to route to; traffic neither wakes nor reaches them.
UNREACHABLE = frozenset({State.PAUSED, State.FAILED})
SCALE_UP_HEADER = "x-scale-up-timeout"
# Longest real sleep of a held request between two looks at the clock: an `advance()` meanwhile
# is noticed at once, and a stopping server does not wait long for it.
HOLD_POLL_SECONDS = 0.05


class Traffic:
    def __init__(
        self,
        *,
        store: Store,
        directory: Directory,
        lock: threading.RLock,
        clock: Clock,
        sleep: Callable[[float], None],
    ) -> None:
        self._store = store
        self._directory = directory
        self._lock = lock
        self._clock = clock
        self._sleep = sleep

    def handle(self, req: Request, ns: str, segment: str, rest: str) -> Response:
        # `chat~2`: the second endpoint of that name; the first one's URL no longer answers.
        name, generation = split_generation(segment)
        hold = _scale_up_timeout(req) if self._clock.speed > 0 else None
        deadline: float | None = None
        while True:
            with self._lock:
                now = self._clock.now()
                rec = self._store.get(ns, name, now=now)
                if rec.deleted_at is not None:
                    raise ApiError(404, f"Endpoint '{name}' not found", prefix=False)
                if generation != rec.generation:
                    raise ApiError(
                        404,
                        f"Endpoint '{name}' was re-created: this URL is not its URL any more",
                        prefix=False,
                    )
                health = endpoint_health_route(rec.spec).strip("/")
                task = rec.spec["model"]["task"]
                kind = _kind(req.method, rest, health=health, task=task)
                self._check_access(req, ns, rec.spec["type"])
                if rec.state in UNREACHABLE or not rec.current.url:
                    raise _unavailable(f"Endpoint '{name}' is {rec.state.value}")
                rec = self._store.touch(ns, name, now=now)
                if rec.state is State.RUNNING:
                    key = f"{ns}/{name}@{rec.spec['model']['revision']}"
                    repository = rec.spec["model"]["repository"]
                    break
                ready = _running_at(rec)
                if hold is None or ready is None:
                    raise _unavailable(
                        f"Endpoint '{name}' is {rec.state.value}: {rec.current.message}"
                    )
                if deadline is None:
                    deadline = now + hold
                if now >= deadline:
                    raise _unavailable(
                        f"Endpoint '{name}' is {rec.state.value}: {rec.current.message} "
                        f"(not running within the X-Scale-Up-Timeout of {hold:g}s)"
                    )
                until = min(ready, deadline)
            self._wait_until(until)
        if kind == "health":
            return Response(200, b"", "text/plain; charset=utf-8")
        payload = _payload(req.body)
        if kind == "chat":
            created = int(self._clock.wall(now).timestamp())
            return json_response(
                200, chat_completion(payload, key=key, model=repository, created=created)
            )
        return json_response(200, infer(task, payload, key=key))

    def _wait_until(self, until: float) -> None:
        """Sleep (without the lock) until the emulated clock reaches `until`, a little at a
        time: the clock may also be moved by `advance()` meanwhile."""
        while (now := self._clock.now()) < until:
            self._sleep(min((until - now) / self._clock.speed, HOLD_POLL_SECONDS))

    def _check_access(self, req: Request, ns: str, endpoint_type: str) -> None:
        if endpoint_type == "public":
            return
        if endpoint_type == "private":
            raise ApiError(
                403, "private endpoint: only reachable through AWS PrivateLink", prefix=False
            )
        caller = self._directory.identify(req)
        if caller is None:
            raise ApiError(401, "a valid Hugging Face token is required", prefix=False)
        if not self._directory.can_access(caller, ns):
            raise ApiError(
                403, f"user '{caller.name}' cannot access endpoints of '{ns}'", prefix=False
            )


def _kind(method: str, rest: str, *, health: str, task: str) -> str:
    """What a request to `{url}/{rest}` asks for: `health`, `infer` or `chat`; 404 for a path
    the endpoint does not serve, 405 (with `Allow`) for a method that path does not take."""
    served: dict[str, str] = {}
    if rest == health:
        served["GET"] = "health"
    if rest == "":
        served["POST"] = "infer"
    if rest == CHAT_ROUTE and task in CHAT_TASKS:
        served["POST"] = "chat"
    if not served:
        raise ApiError(404, f"Not Found: {method} /{rest}", prefix=False)
    if method not in served:
        allowed = ", ".join(sorted(served))
        raise ApiError(405, f"allowed: {allowed}", headers=(("Allow", allowed),))
    return served[method]


def _scale_up_timeout(req: Request) -> float | None:
    """The request's `X-Scale-Up-Timeout` in seconds; None when absent, not a number, or not
    positive (then it is as if it were not sent)."""
    raw = req.header(SCALE_UP_HEADER)
    try:
        seconds = float(raw) if raw is not None else math.nan
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def _running_at(rec: Record) -> float | None:
    """When the endpoint's timeline makes it running, if it does (not a scripted failure)."""
    for segment in rec.timeline:
        if segment.state is State.RUNNING:
            return segment.at
        if segment.state in UNREACHABLE or segment.state is State.UPDATE_FAILED:
            return None
    return None


def _unavailable(message: str) -> ApiError:
    return ApiError(503, message, prefix=False)


def _payload(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, f"Failed to parse the request body as JSON: {err}", plain=True) from err
