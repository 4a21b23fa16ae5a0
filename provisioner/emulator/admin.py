"""The `/admin/...` routes: request log, faults, clock, reset and bulk seeding, for tests, demos
and the benchmark.

No token, no latency, no faults, and not recorded in the request log (reading the log must not
change it). Instead of a token, `check_caller` answers 403 to a request from another machine, one
whose Host header names another host (DNS rebinding: a web page's own name resolving to
127.0.0.1) and one with an Origin header (a browser's), so a web page cannot reset or script an
emulator on the machine that opened it. Owns only the HTTP shape of these controls; each one
delegates to the object that owns the thing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from provisioner.emulator.addresses import is_loopback
from provisioner.emulator.clock import Clock
from provisioner.emulator.faults import FaultError, Faults
from provisioner.emulator.journal import Journal
from provisioner.emulator.lifecycle import State
from provisioner.emulator.schema import Spec, parse_create
from provisioner.emulator.wire import ApiError, Request, Response, json_response

# Every admin route and the methods it answers: the one list. `handle_admin` answers 404 and 405
# from it, and `provisioner emulator --help` lists it (tests/emulator/test_emulator_help.py holds
# the help, this table and what the server answers equal). `/admin/models` is served by
# `Models.admin` (the model repositories own their branches), the others below.
ROUTES: dict[str, tuple[str, ...]] = {
    "/admin/requests": ("GET", "DELETE"),
    "/admin/faults": ("GET", "POST", "DELETE"),
    "/admin/clock": ("GET", "POST"),
    "/admin/reset": ("POST",),
    "/admin/seed": ("POST",),
    "/admin/models": ("POST",),
}


# The names the admin routes answer to, besides the one the emulator was started on.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def check_caller(req: Request, *, hosts: frozenset[str]) -> None:
    """403 unless `req` comes from this machine (loopback), names one of `hosts` (host:port,
    or a host alone) in its Host header, and is no browser's (no Origin header). A request
    made in process (no peer) passes."""
    if req.peer is not None and not is_loopback(req.peer):
        raise _forbidden(
            f"admin routes answer only requests from this machine (loopback), not {req.peer}"
        )
    if req.header("origin") is not None:
        raise _forbidden(
            "admin routes refuse requests with an Origin header (a browser's): a web page "
            "must not control the emulator"
        )
    if req.host is not None and req.host.lower() not in hosts:
        raise _forbidden(
            f"admin routes answer only Host {', '.join(sorted(h for h in hosts if ':' in h))}, "
            f"not {req.host!r}"
        )


def admin_hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers admin routes accept for an emulator bound to `host`:`port`."""
    names = {*LOOPBACK_NAMES, host.lower() if ":" not in host else f"[{host.lower()}]"}
    names -= {"0.0.0.0", "[::]", ""}
    return frozenset({*names, *(f"{name}:{port}" for name in names)})


def _forbidden(message: str) -> ApiError:
    return ApiError(403, message, prefix=False)


def check_route(req: Request) -> str:
    """The admin route `req` asks for (`requests`, `faults` ...); 404 or 405 from `ROUTES`."""
    segs = [unquote(s) for s in req.path.strip("/").split("/")][1:]
    route = "/".join(segs)
    allowed = ROUTES.get(f"/admin/{route}")
    if allowed is None:
        raise ApiError(404, f"no admin route '/admin/{route}'", prefix=False)
    if req.method not in allowed:
        raise _not_allowed(", ".join(allowed))
    return route


def handle_admin(
    req: Request,
    *,
    journal: Journal,
    faults: Faults,
    clock: Clock,
    reset: Callable[[], None],
    seed: Callable[[str, list[Spec], State, str | None], int],
) -> Response:
    route = check_route(req)
    if route == "requests":
        if req.method == "GET":
            return json_response(200, journal.entries())
        return json_response(200, {"cleared": journal.clear()})
    if route == "faults":
        return _faults(req, faults)
    if route == "clock":
        return _clock(req, clock)
    if route == "reset":
        reset()
        return json_response(200, {"reset": True})
    if route == "seed":
        return _seed(req, seed)
    # In ROUTES but served elsewhere (`/admin/models`, by the service): never reached from it.
    raise ApiError(404, f"no admin route '/admin/{route}'", prefix=False)


def _faults(req: Request, faults: Faults) -> Response:
    """`/admin/faults`: list, script or clear faults."""
    if req.method == "GET":
        return json_response(200, faults.listing())
    if req.method == "POST":
        try:
            return json_response(201, faults.add(_json(req)))
        except FaultError as err:
            raise ApiError(400, f"invalid fault: {err}") from err
    faults.clear()
    return json_response(200, {"cleared": True})


def _clock(req: Request, clock: Clock) -> Response:
    """`/admin/clock`: read the emulated time, or advance it."""
    if req.method == "POST":
        body = _json(req)
        seconds = body.get("advance") if isinstance(body, dict) else None
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise ApiError(400, 'expected {"advance": <seconds >= 0>}')
        try:
            clock.advance(float(seconds))
        except ValueError as err:
            raise ApiError(400, str(err)) from err
    now = clock.now()
    return json_response(200, {"now": now, "time": clock.iso(now), "speed": clock.speed})


# States a fleet can be seeded in; `pending` starts the create timeline (pending -> running).
SEED_STATES = {
    s.value: s for s in (State.RUNNING, State.PENDING, State.PAUSED, State.SCALED_TO_ZERO)
}


def _seed(req: Request, seed: Callable[[str, list[Spec], State, str | None], int]) -> Response:
    """`POST /admin/seed` `{"namespace", "endpoints": [create bodies], "state"?, "by"?}`: load a
    whole fleet in one call. Each body is checked as `POST /v2/endpoint/{ns}` checks it; any
    error is a 400 (409 for names or quota) naming the index, and nothing is stored."""
    body = _json(req)
    if not isinstance(body, dict):
        raise ApiError(400, 'expected {"namespace": str, "endpoints": [create bodies]}')
    unknown = sorted(set(body) - {"namespace", "endpoints", "state", "by"})
    if unknown:
        raise ApiError(400, f"unknown keys: {', '.join(unknown)}")
    namespace, endpoints = body.get("namespace"), body.get("endpoints")
    if not isinstance(namespace, str) or not namespace or "/" in namespace:
        raise ApiError(400, "namespace must be a non-empty string without '/'")
    if not isinstance(endpoints, list):
        raise ApiError(400, "endpoints must be a list of create bodies")
    state_name = body.get("state", State.RUNNING.value)
    if state_name not in SEED_STATES:
        raise ApiError(400, f"state must be one of {', '.join(SEED_STATES)}, got {state_name!r}")
    by = body.get("by")
    if by is not None and (not isinstance(by, str) or not by):
        raise ApiError(400, "by must be a non-empty string")
    specs: list[Spec] = []
    for i, item in enumerate(endpoints):
        if not isinstance(item, dict):
            raise ApiError(400, f"endpoints[{i}]: expected an object")
        try:
            specs.append(parse_create(json.dumps(item).encode()))
        except ApiError as err:
            raise ApiError(400, f"endpoints[{i}]: {err.message}") from err
    count = seed(namespace, specs, SEED_STATES[state_name], by)
    out: dict[str, Any] = {"namespace": namespace, "seeded": count, "state": state_name}
    return json_response(201, out)


def _json(req: Request) -> object:
    try:
        return json.loads(req.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, f"body is not valid JSON: {err}") from err


def _not_allowed(allow: str) -> ApiError:
    return ApiError(405, f"allowed: {allow}", headers=(("Allow", allow),))
