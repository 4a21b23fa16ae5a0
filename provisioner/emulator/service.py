"""The emulated service: one request in, one response out, independent of sockets.

Owns routing of the public surface (hub `whoami-v2` and `agent-harnesses`, the `/v2` Endpoints API,
the endpoints' own URLs under `/endpoints/{ns}/{name}`), the order of checks (faults, then auth,
then body, then state), latency, and the request log. Locking: one re-entrant lock around the store;
body decoding happens before taking it and JSON encoding after releasing it, so the lock only covers
the O(1) operation (or the O(n) render of a list).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, unquote

from provisioner.emulator.admin import admin_hosts, check_caller, check_route, handle_admin
from provisioner.emulator.auth import Directory
from provisioner.emulator.clock import Clock
from provisioner.emulator.config import EmulatorConfig
from provisioner.emulator.faults import Faults, Injected, corrupt
from provisioner.emulator.hardware import Hardware
from provisioner.emulator.images import documented_only
from provisioner.emulator.journal import Entry, Journal, redact_request
from provisioner.emulator.lifecycle import Record, State
from provisioner.emulator.logs import select
from provisioner.emulator.models import Models, model_route
from provisioner.emulator.render import encoded, render, split_generation
from provisioner.emulator.schema import Spec, parse_create, parse_update
from provisioner.emulator.store import Store
from provisioner.emulator.traffic import Traffic
from provisioner.emulator.wire import (
    ApiError,
    Request,
    Response,
    json_response,
    text_response,
)

log = logging.getLogger("provisioner.emulator")

AGENT_HARNESSES: dict[str, Any] = {"standardEnvVars": [], "harnesses": {}}
ACTIONS = ("pause", "resume", "scale-to-zero")
# The page size of a `?cursor=` request without `?limit=` on an emulator that does not page.
DEFAULT_PAGE_SIZE = 100


class Service:
    def __init__(
        self,
        config: EmulatorConfig,
        *,
        clock: Clock,
        hardware: Hardware,
        sleep: Callable[[float], None],
    ) -> None:
        self.config = config
        self.clock = clock
        self.hardware = hardware
        self.lock = threading.RLock()
        self.faults = Faults(config.fault_rate, config.seed)
        self.directory = Directory(config)
        self.store = Store(
            hardware=hardware,
            durations=config.durations,
            quotas=config.quotas,
            faults=self.faults,
            refuse_updates_while_starting=config.refuse_updates_while_starting,
        )
        self.journal = Journal(config.request_log_limit)
        self.models = Models(self.directory)
        self.base_url = "http://127.0.0.1"
        # The Host headers admin routes accept (`admin.check_caller`); set by `Emulator.start`.
        self.admin_hosts = admin_hosts("127.0.0.1", 0)
        self._sleep = sleep
        self._traffic = Traffic(
            store=self.store,
            directory=self.directory,
            lock=self.lock,
            clock=self.clock,
            sleep=sleep,
        )

    # --- entry point --------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        trace = req.header("x-amzn-trace-id") or req.header("x-request-id") or uuid.uuid4().hex
        if req.path == "/admin" or req.path.startswith("/admin/"):
            resp = _guard(lambda: self._admin(req))
        else:
            if self.config.latency_ms:
                self._sleep(self.config.latency_ms / 1000)
            resp = self._serve(req, trace)
        return replace(resp, headers=(*resp.headers, ("x-request-id", trace)))

    def _admin(self, req: Request) -> Response:
        check_caller(req, hosts=self.admin_hosts)  # 403 before anything else, 404 included
        if req.path == "/admin/models":
            return self._admin_models(req)
        return handle_admin(
            req,
            journal=self.journal,
            faults=self.faults,
            clock=self.clock,
            reset=self.reset,
            seed=self.seed,
        )

    def _admin_models(self, req: Request) -> Response:
        check_route(req)  # 405 before the body is read, as for every admin route
        return self.models.admin(req, _admin_json(req))

    def reset(self) -> None:
        """Forget every endpoint, fault and logged request (the clock keeps running)."""
        with self.lock:
            self.store.reset()
        self.faults.clear()
        self.journal.clear()
        self.models.reset()

    def seed(self, namespace: str, specs: list[Spec], state: State, by: str | None) -> int:
        """Bulk-load endpoints in `state` (`POST /admin/seed`); all or nothing."""
        default = self.config.users[0].name if self.config.users else "admin"
        creator = by if by is not None else default
        with self.lock:
            return self.store.seed(namespace, specs, state=state, by=creator, now=self.clock.now())

    def base_for(self, req: Request) -> str:
        # Build URLs from the Host the client used, so `status.url` works through any alias.
        return f"http://{req.host}" if req.host else self.base_url

    def render(self, rec: Record, req: Request) -> dict[str, Any]:
        return render(
            rec,
            base_url=self.base_for(req),
            iso=self.clock.iso,
            inject_env=self.config.inject_hf_token,
            omit_secrets=self.config.omit_secrets,
            legacy_type=self.config.legacy_protected,
        )

    # --- dispatch -----------------------------------------------------------------------------

    def _serve(self, req: Request, trace: str) -> Response:
        segs = [unquote(s) for s in req.path.strip("/").split("/")]
        injected = self.faults.for_request(req.method, req.path)
        if injected is not None and injected.echo_body:
            quoted = req.body.decode("utf-8", "replace")
            injected = replace(injected, message=f"{injected.message}: {quoted}")
        if injected is not None and not injected.after:
            resp = _fault_response(injected)
        else:
            resp = _guard(lambda: self._route(req, segs))
            if injected is not None:
                resp = _fault_response(injected)
        self._log(req, resp, segs, injected, trace)
        return resp

    def _route(self, req: Request, segs: list[str]) -> Response:
        method = req.method
        match segs:
            case ["api", "whoami-v2"]:
                _allow(method, "GET")
                return json_response(200, self.directory.whoami(self.directory.require(req)))
            case ["api", "models", _, *_]:
                _allow(method, "GET")
                repository, revision = model_route(segs) or ("", None)
                return self.models.info(req, repository, revision)
            case ["api", "agent-harnesses"]:
                _allow(method, "GET")
                return json_response(200, AGENT_HARNESSES)
            case ["v2", "provider"]:
                _allow(method, "GET")
                return json_response(200, self.hardware.render())
            case ["v2", "provider", "quotas", ns]:
                _allow(method, "GET")
                return self._quotas(req, ns)
            case ["v2", "provider", ns]:
                _allow(method, "GET")
                self.directory.authorize(req, ns, write=False)
                with self.lock:
                    doc = self.hardware.render(self.store.quota_of(ns, self.clock.now()))
                return json_response(200, doc)
            case ["v2", "endpoint", ns]:
                if method == "GET":
                    return self._list(req, ns)
                _allow(method, "GET, POST")
                return self._create(req, ns)
            case ["v2", "endpoint", ns, name]:
                return self._one(req, ns, name)
            case ["v2", "endpoint", ns, name, "logs"]:
                _allow(method, "GET")
                return self._logs(req, ns, name)
            case ["v2", "endpoint", ns, name, action] if action in ACTIONS:
                _allow(method, "POST")
                return self._action(req, ns, name, action)
            case ["endpoints", ns, name, *rest]:
                return self._traffic.handle(req, ns, name, "/".join(rest))
        raise ApiError(404, f"Not Found: {req.method} {req.path}", prefix=False)

    # --- /v2 handlers -------------------------------------------------------------------------

    def _list(self, req: Request, ns: str) -> Response:
        self.directory.authorize(req, ns, write=False)
        size, after = _paging(req.query, self.config.list_page_size)
        base = self.base_for(req)
        more = False
        with self.lock:
            records = self.store.list(ns, self.clock.now())
            if size is not None:
                # By name, after the cursor's name: stable while endpoints come and go.
                records = sorted((r for r in records if after is None or r.name > after), key=_name)
                more, records = len(records) > size, records[:size]
            items = [
                encoded(
                    rec,
                    base_url=base,
                    iso=self.clock.iso,
                    inject_env=self.config.inject_hf_token,
                    omit_secrets=self.config.omit_secrets,
                    legacy_type=self.config.legacy_protected,
                )
                for rec in records
            ]
        items = self._corrupted(ns, [r.name for r in records], items)
        body = '{"items": [' + ", ".join(items) + "]"
        if size is not None:
            cursor = _cursor(records[-1].name) if more else None
            body += f', "nextCursor": {json.dumps(cursor)}'
        return Response(200, (body + "}").encode())

    def _corrupted(self, ns: str, names: list[str], items: list[str]) -> list[str]:
        """The `corrupt_listing` faults (admin) applied to the listed items they name."""
        faults = self.faults.listing_corruptions(ns)
        if not faults:
            return items
        out = []
        for name, item in zip(names, items, strict=True):
            if name in faults:
                doc = json.loads(item)
                for fault in faults[name]:
                    corrupt(doc, fault)
                item = json.dumps(doc)
            out.append(item)
        return out

    def _create(self, req: Request, ns: str) -> Response:
        caller = self.directory.authorize(req, ns, write=True)
        _require_json(req)
        spec = parse_create(req.body)
        if self.config.drop_undocumented_options:
            spec["model"]["image"] = documented_only(spec["model"]["image"])
        with self.lock:
            rec = self.store.create(ns, spec, by=caller.name, now=self.clock.now())
            doc = self.render(rec, req)
        return json_response(200, doc)

    def _one(self, req: Request, ns: str, name: str) -> Response:
        method = req.method
        _allow(method, "GET, PUT, DELETE")  # before the token: the route decides the method
        caller = self.directory.authorize(req, ns, write=method != "GET")
        if method == "GET":
            with self.lock:
                doc = self.render(self.store.get(ns, name, now=self.clock.now()), req)
            return json_response(200, doc)
        if method == "PUT":
            _require_json(req)
            patch = parse_update(req.body)
            image = patch.get("model", {}).get("image")
            if self.config.drop_undocumented_options and isinstance(image, dict):
                patch["model"]["image"] = documented_only(image)
            with self.lock:
                rec = self.store.update(ns, name, patch=patch, by=caller.name, now=self.clock.now())
                doc = self.render(rec, req)
            return json_response(200, doc)
        with self.lock:
            self.store.delete(ns, name, now=self.clock.now())
        return json_response(200, {})

    def _action(self, req: Request, ns: str, name: str, action: str) -> Response:
        caller = self.directory.authorize(req, ns, write=True)
        with self.lock:
            now = self.clock.now()
            if action == "pause":
                rec = self.store.pause(ns, name, by=caller.name, now=now)
            elif action == "resume":
                rec = self.store.resume(ns, name, by=caller.name, now=now)
            else:
                rec = self.store.scale_to_zero(ns, name, by=caller.name, now=now)
            doc = self.render(rec, req)
        return json_response(200, doc)

    def _logs(self, req: Request, ns: str, name: str) -> Response:
        """The endpoint's replica logs as text, one time-stamped line each (`logs.py`)."""
        self.directory.authorize(req, ns, write=False)
        params = parse_qs(req.query, keep_blank_values=True)
        with self.lock:
            lines = list(self.store.get(ns, name, now=self.clock.now()).log)
        clock = self.clock
        text = select(
            lines, params, epoch_seconds=lambda at: clock.wall(at).timestamp(), iso=clock.iso
        )
        return text_response(200, text)

    def _quotas(self, req: Request, ns: str) -> Response:
        self.directory.authorize(req, ns, write=False)
        with self.lock:
            quota_of = self.store.quota_of(ns, self.clock.now())
            by_vendor: dict[str, list[dict[str, Any]]] = {}
            for key in self.hardware.quota_keys():
                limit, used = quota_of(key)
                by_vendor.setdefault(key[0], []).append(
                    {
                        "instanceType": key[1],
                        "architecture": self.hardware.architecture_of(key),
                        "maxAccelerators": limit,
                        "usedAccelerators": used,
                    }
                )
        vendors = [{"name": v, "quotas": rows} for v, rows in by_vendor.items()]
        return json_response(200, {"vendors": vendors})

    # --- request log --------------------------------------------------------------------------

    def _log(
        self,
        req: Request,
        resp: Response,
        segs: list[str],
        injected: Injected | None,
        trace: str,
    ) -> None:
        namespace = name = None
        if len(segs) >= 3 and segs[:2] in (["v2", "endpoint"], ["v2", "provider"]):
            namespace = segs[3] if segs[2] == "quotas" and len(segs) > 3 else segs[2]
            name = segs[3] if segs[1] == "endpoint" and len(segs) > 3 else None
        elif len(segs) >= 3 and segs[0] == "endpoints":
            namespace, name = segs[1], split_generation(segs[2])[0]
        now = self.clock.now()
        self.journal.record(
            Entry(
                method=req.method,
                path=req.path,
                query=req.query,
                status=resp.status,
                namespace=namespace,
                name=name,
                time=now,
                at=self.clock.iso(now),
                body=_loggable(req.body),
                fault=injected.source if injected is not None else None,
                request_id=trace,
            )
        )


def _name(rec: Record) -> str:
    return rec.name


def _cursor(after: str) -> str:
    """Opaque to clients: the last name of the page, base64url-encoded."""
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def _paging(query: str, default: int | None) -> tuple[int | None, str | None]:
    """The page size (`?limit=`, else the configured one; None = no paging) and the name the
    page starts after (`?cursor=`, which pages even without a size: the default page size)."""
    params = parse_qs(query)
    limit, cursor = params.get("limit", [None])[-1], params.get("cursor", [None])[-1]
    size = default
    if limit is not None:
        if not limit.isdigit() or int(limit) < 1:
            raise ApiError(400, f"limit must be a positive integer, got {limit!r}")
        size = int(limit)
    if cursor is None:
        return size, None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as err:
        raise ApiError(400, "invalid cursor") from err
    if not text.startswith("after:"):
        raise ApiError(400, "invalid cursor")
    return size or DEFAULT_PAGE_SIZE, text.removeprefix("after:")


def _loggable(body: bytes) -> Any:
    if not body:
        return None
    try:
        return redact_request(json.loads(body))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        # Not JSON: never echo raw bytes (they could be anything), just say how many.
        return {"unparsedBytes": len(body)}


def _admin_json(req: Request) -> Any:
    try:
        return json.loads(req.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ApiError(400, f"body is not valid JSON: {err}") from err


def _guard(handler: Callable[[], Response]) -> Response:
    try:
        return handler()
    except ApiError as err:
        return err.response()
    except Exception:
        log.exception("emulator: internal error while handling a request")
        return ApiError(500, "internal emulator error (see the emulator log)").response()


def _fault_response(fault: Injected) -> Response:
    headers: tuple[tuple[str, str], ...] = ()
    if fault.retry_after is not None:
        headers = (("Retry-After", str(fault.retry_after)),)
    if fault.location is not None:
        headers = (*headers, ("Location", fault.location))
    return ApiError(fault.status, fault.message, headers=headers).response()


def _allow(method: str, allowed: str) -> None:
    if method not in [m.strip() for m in allowed.split(",")]:
        raise _not_allowed(allowed)


def _not_allowed(allowed: str) -> ApiError:
    return ApiError(405, f"method not allowed; allowed: {allowed}", headers=(("Allow", allowed),))


def _require_json(req: Request) -> None:
    ctype = (req.header("content-type") or "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        # axum's `Json` extractor refuses other content types before reading the body.
        raise ApiError(415, "Expected request with `Content-Type: application/json`", plain=True)
