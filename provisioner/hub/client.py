"""The adapter around `huggingface_hub`: the only code in provisioner that imports it.

`HubApi` implements `provisioner.hub.api.EndpointsApi` with the real client. Every call passes
the namespace explicitly (otherwise the client calls the rate-limited whoami before each
request), goes through the one `Retrier`, and turns client errors into `provisioner.hub.errors`.
The token is held here and nowhere else, and never printed.
"""

from __future__ import annotations

import functools
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpcore2
import httpx2
from huggingface_hub import HfApi, InferenceEndpointHardware, constants
from huggingface_hub.errors import HfHubHTTPError, RevisionNotFoundError
from huggingface_hub.utils import build_hf_headers, get_session, get_token, hf_raise_for_status

from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import (
    ApiError,
    ConfigurationError,
    MalformedResponse,
    Refused,
    Transient,
    UnknownRevision,
    Unreachable,
    classify,
)
from provisioner.hub.models import (
    Answer,
    Config,
    Hardware,
    Identity,
    Listing,
    LiveEndpoint,
    Secrets,
)
from provisioner.hub.normalise import (
    ListingReader,
    create_arguments,
    endpoint_from_raw,
    update_body,
)
from provisioner.hub.retry import Retrier
from provisioner.spec.diagnostics import clip, shown
from provisioner.spec.schema import valid_name, valid_namespace

T = TypeVar("T")
log = logging.getLogger("provisioner.hub")

DEFAULT_API_URL = "https://api.endpoints.huggingface.cloud"
# Where the real service puts endpoint URLs (`https://<id>.<region>.<vendor>.endpoints.
# huggingface.cloud`): the only hosts besides the API's and the Hub's that get the token.
ENDPOINTS_DOMAIN = ".endpoints.huggingface.cloud"
# Requests that change something: a redirect answering one is never followed.
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_HUB_URL = "https://huggingface.co"
# Connect within 10 s; then no 60 s without a byte (a stalled answer). A request as a whole is
# bounded by `Limits.request_seconds`, which a trickling answer cannot outlive.
TIMEOUT = httpx2.Timeout(60.0, connect=10.0)
MiB = 2**20
READ_TIMEOUT_VARIABLE = "PROVISIONER_READ_TIMEOUT"


@dataclass(frozen=True)
class Limits:
    """How long and how much any read may take: one request (connect to last byte, whatever
    the timeouts between bytes), one answer's body, one namespace's listing (pages, items,
    bytes, seconds) and one phase of the live read (`HubApi.phase`). Past any of them the call
    stops with a message that names the limit; nothing waits for the CI job's own timeout."""

    request_seconds: float = 120.0
    answer_bytes: int = 64 * MiB
    pages: int = 2_000
    listed: int = 50_000
    listing_bytes: int = 256 * MiB
    listing_seconds: float = 300.0
    phase_seconds: float = 600.0


@dataclass(frozen=True)
class Connection:
    """Where the API is and who calls it. `token` is never rendered."""

    api_url: str = DEFAULT_API_URL
    hub_url: str = DEFAULT_HUB_URL
    token: str | None = None
    limits: Limits = field(default_factory=Limits)

    def __repr__(self) -> str:
        return f"Connection(api_url={self.api_url!r}, hub_url={self.hub_url!r}, token=***)"


def resolve_connection(api_url: str | None, environ: dict[str, str]) -> Connection:
    """Base URLs and token from flags and the environment (`HF_TOKEN`, else the saved login).

    `--api-url`/`PROVISIONER_API_URL` is a base URL such as the emulator's
    `http://127.0.0.1:8790`; whoami is then asked at the same place. Against the real service,
    whoami goes to `HF_ENDPOINT` (default https://huggingface.co).
    """
    if _is_true(environ.get("HF_HUB_OFFLINE")):
        raise ConfigurationError(
            "HF_HUB_OFFLINE is set: huggingface_hub then refuses every request, including "
            "provisioner's; unset it"
        )
    # huggingface_hub reads HF_DEBUG when it is imported (`constants.HF_DEBUG`) and then logs
    # each request as a curl command, body included: a create's or update's secret values.
    # Redacting that text after the fact cannot be made safe (it is JSON inside shell quoting,
    # cut at 1,000 characters, possibly mid-value), so the switch is refused before any request.
    if _is_true(environ.get("HF_DEBUG")) or constants.HF_DEBUG:
        raise ConfigurationError(
            "HF_DEBUG is set: huggingface_hub would then print every request it sends, secret "
            "values included; unset it (HF_HUB_VERBOSITY=debug logs each request's method and "
            "URL without its body)"
        )
    given = api_url or environ.get("PROVISIONER_API_URL")
    if given is not None:  # click fills api_url from PROVISIONER_API_URL too: name both
        _check_url(given, "--api-url / PROVISIONER_API_URL")
    base = (given or DEFAULT_API_URL).rstrip("/")
    base = base.removesuffix("/v2")
    if base == DEFAULT_API_URL:
        hub = environ.get("HF_ENDPOINT") or DEFAULT_HUB_URL
    else:
        hub = base
    return Connection(
        api_url=base, hub_url=hub.rstrip("/"), token=_token(environ), limits=_limits(environ)
    )


def _limits(environ: dict[str, str]) -> Limits:
    """The default limits, with `PROVISIONER_READ_TIMEOUT` (seconds) for a phase of the live
    read when it is set: a very large fleet on a slow link may need more than 600 s."""
    given = environ.get(READ_TIMEOUT_VARIABLE)
    if not given:
        return Limits()
    try:
        seconds = float(given)
    except ValueError:
        seconds = 0.0
    if not 1 <= seconds <= 86_400:
        raise ConfigurationError(
            f"{READ_TIMEOUT_VARIABLE}={clip(given, 40)!r}: expected a number of seconds "
            "between 1 and 86400 (the default is 600)"
        )
    return Limits(phase_seconds=seconds)


def _check_url(url: str, where: str) -> None:
    """An http(s) URL with a host, or a configuration error before any request is tried."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ConfigurationError(
            f"{where}: {clip(url, 200)!r} is not an http:// or https:// URL with a host, such "
            "as http://127.0.0.1:8790 (the emulator) or https://api.endpoints.huggingface.cloud"
        )


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _token(environ: dict[str, str]) -> str:
    """`HF_TOKEN` (else the saved login), stripped of surrounding whitespace as huggingface_hub
    strips it (`_clean_token`): `HF_TOKEN=$(cat file)` and friends leave a newline. A token
    that is still not a valid header value is a configuration error at once; it would
    otherwise fail every request client-side, and never get better by retrying."""
    source = "HF_TOKEN"
    token = environ.get("HF_TOKEN", "").strip()
    if not token:
        source, token = "the saved Hugging Face login", (get_token() or "").strip()
    if not token:
        raise ConfigurationError(
            "no Hugging Face token: set HF_TOKEN or run `hf auth login` (with the emulator, "
            "the demo token is hf_demo)"
        )
    # Visible ASCII only: a token is sent as `Authorization: Bearer <token>`. The value is
    # never shown, not even in part.
    if not all(33 <= ord(c) <= 126 for c in token):
        raise ConfigurationError(
            f"the token in {source} is malformed: it contains whitespace, control or non-ASCII "
            "characters inside it (the value is not shown); set it again, e.g. "
            "HF_TOKEN=hf_... with nothing around it"
        )
    return token


def _retry_after(response: Any) -> float | None:
    """`Retry-After` in seconds. The HTTP-date form is not used by this API; it is ignored and
    the backoff decides."""
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _server_text(error: HfHubHTTPError) -> str:
    try:
        body = error.response.json()
    except ValueError:
        return error.response.text.strip()
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return error.response.text.strip()


URL_HINT = "check --api-url / PROVISIONER_API_URL"


class RedirectRefused(Exception):
    """A mutating request was answered with a redirect: raised from the session's response
    hook, before the client follows it (the request is never sent again, elsewhere)."""

    def __init__(self, method: str, status: int, location: str) -> None:
        super().__init__(method, status, location)
        parts = urlsplit(location)
        where = f"{parts.scheme}://{parts.netloc}" if parts.netloc else location
        self.text = (
            f"the service answered {status}, a redirect to {clip(where, 100)!r}, which was not "
            f"followed: a {method} is only ever sent to the address provisioner built"
        )


def refuse_redirects(response: httpx2.Response) -> None:
    """The session's response hook: a redirect of a POST, PUT or DELETE is an error. httpx
    calls it for each answer before it follows a redirect; GETs may still follow (the Hub
    redirects a renamed model's info), and httpx drops the token when a redirect leaves the
    origin."""
    method = response.request.method.upper()
    if method in MUTATING and response.is_redirect:
        location = response.headers.get("location", "")
        raise RedirectRefused(method, response.status_code, location)


class Overrun(Exception):
    """A request ran past a deadline, or its answer past a size: raised from the network
    stream itself, so a trickling or endless answer is cut off where it stands."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class _Bound:
    """One request's limits: when it must be done (and which limit that is), and how many
    more bytes it may read."""

    at: float
    why: str
    bytes_left: int
    answer_bytes: int

    def overrun(self) -> Overrun:
        return Overrun(f"no complete answer within {self.why}; stopped waiting")

    def timeout(self, timeout: float | None) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.overrun()
        return left if timeout is None else min(timeout, left)

    def run(self, timeout: float | None, step: Callable[[float | None], T]) -> T:
        """`step(timeout)`, given no longer than this request has left: a timeout that only
        the deadline made short is the deadline's overrun, not a stalled connection."""
        limit = self.timeout(timeout)
        try:
            return step(limit)
        except httpcore2.TimeoutException:
            if timeout is None or limit < timeout:
                raise self.overrun() from None
            raise

    def took(self, count: int) -> None:
        self.bytes_left -= count
        if self.bytes_left < 0:
            raise Overrun(f"the answer is larger than {_size(self.answer_bytes)}; stopped reading")


def _size(count: int) -> str:
    return f"{count // MiB} MiB" if count >= MiB else f"{count // 1024} KiB"


# The limits of the request this thread is sending, if it goes through `_BoundedTransport`;
# and deadlines this thread is inside of (a listing's, a phase's), each as (at, why).
_local = threading.local()


@contextmanager
def within(at: float, why: str) -> Iterator[None]:
    """Every request this thread sends inside the block must be done by `at` (monotonic)."""
    outer: list[tuple[float, str]] = getattr(_local, "deadlines", [])
    _local.deadlines = [*outer, (at, why)]
    try:
        yield
    finally:
        _local.deadlines = outer


class _BoundedStream(httpcore2.NetworkStream):
    """A connection whose every read and write waits at most until the current request's
    deadline, and whose reads count against its byte limit."""

    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        bound: _Bound | None = getattr(_local, "bound", None)
        if bound is None:
            return self._inner.read(max_bytes, timeout)
        data = bound.run(timeout, functools.partial(self._inner.read, max_bytes))
        bound.took(len(data))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        bound: _Bound | None = getattr(_local, "bound", None)
        if bound is None:
            self._inner.write(buffer, timeout)
        else:
            bound.run(timeout, functools.partial(self._inner.write, buffer))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        bound: _Bound | None = getattr(_local, "bound", None)
        start = functools.partial(self._inner.start_tls, ssl_context, server_hostname)
        return _BoundedStream(start(timeout) if bound is None else bound.run(timeout, start))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.NetworkStream:
        bound: _Bound | None = getattr(_local, "bound", None)

        def connect(timeout: float | None) -> httpcore2.NetworkStream:
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)

        return _BoundedStream(connect(timeout) if bound is None else bound.run(timeout, connect))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore2.NetworkStream:
        return _BoundedStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _BoundedBody(httpx2.SyncByteStream):
    """An answer's body, read under its request's limits (httpx reads it after the transport
    has returned the headers)."""

    def __init__(self, inner: Any, bound: _Bound) -> None:
        self._inner = inner
        self._bound = bound

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            _local.bound = self._bound
            try:
                chunk = next(chunks, None)
            finally:
                _local.bound = None
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self._inner.close()


class _BoundedTransport(httpx2.BaseTransport):
    """Every request through huggingface_hub's session, with a deadline (the least of the
    request's own limit and any listing's or phase's this thread is inside of) and a byte
    limit that the connection itself enforces."""

    def __init__(self, inner: httpx2.BaseTransport, limits: Limits) -> None:
        self._inner = inner
        self.limits = limits
        pool = getattr(inner, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            raise RuntimeError(
                "this httpx2 has no connection pool to bound: provisioner cannot enforce its "
                "request deadlines with it"
            )
        if not isinstance(backend, _BoundedBackend):
            pool._network_backend = _BoundedBackend(backend)  # type: ignore[union-attr]

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        timeouts = request.extensions.get("timeout") or {}
        # A request that asks for a longer read than the session's (a smoke test held through
        # a cold start) gets that much longer.
        longer = (timeouts.get("read") or 0.0) - (TIMEOUT.read or 0.0)
        seconds = self.limits.request_seconds + max(0.0, longer)
        deadlines = [
            (time.monotonic() + seconds, f"the {seconds:.0f} s a request may take"),
            *getattr(_local, "deadlines", []),
        ]
        at, why = min(deadlines)
        bound = _Bound(at, why, self.limits.answer_bytes, self.limits.answer_bytes)
        _local.bound = bound
        try:
            response = self._inner.handle_request(request)
        finally:
            _local.bound = None
        response.stream = _BoundedBody(response.stream, bound)
        return response

    def close(self) -> None:
        self._inner.close()


def _session(limits: Limits) -> httpx2.Client:
    """huggingface_hub's shared session, with `refuse_redirects` installed and every transport
    bounded (once; the client may have made a new session since)."""
    session = get_session()
    # The client's default is no timeout at all: a hung connection would hang apply forever.
    session.timeout = TIMEOUT
    hooks = session.event_hooks["response"]
    if refuse_redirects not in hooks:
        hooks.append(refuse_redirects)
    # httpx keeps the default transport and the proxies' (from HTTPS_PROXY and friends) apart:
    # each is bounded.
    transport = session._transport
    if not isinstance(transport, _BoundedTransport):
        session._transport = _BoundedTransport(transport, limits)
    elif transport.limits != limits:
        transport.limits = limits
    for pattern, mounted in session._mounts.items():
        if mounted is not None and not isinstance(mounted, _BoundedTransport):
            session._mounts[pattern] = _BoundedTransport(mounted, limits)
        elif isinstance(mounted, _BoundedTransport):
            mounted.limits = limits
    return session


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def token_may_go_to(url: str, connection: Connection) -> bool:
    """Whether a request to `url` may carry the token: the API's and the Hub's origins (the
    emulator's, when --api-url names it), and https URLs under the service's endpoints domain.
    Anything else (another host, plain http elsewhere) is refused, never sent."""
    origin = _origin(url)
    if origin in {_origin(connection.api_url), _origin(connection.hub_url)}:
        return True
    return origin[0] == "https" and origin[1].endswith(ENDPOINTS_DOMAIN)


class InvalidAddress(ApiError):
    """A namespace or name that fails the spec's rules: never put in a request's path."""


class UntrustedUrl(ApiError):
    """An endpoint URL the token may not be sent to: the request is not sent."""


def checked(what: str, namespace: str, name: str | None = None) -> str:
    """`namespace/name` (or the namespace), once both pass the spec's rules; else
    `InvalidAddress`. Every path this adapter builds, or has the client build, goes through
    here: a listed `../victim/prod` or `manual?x=1` cannot address anything else."""
    if not valid_namespace(namespace):
        raise InvalidAddress(
            f"{what}: refused: the namespace {shown(namespace)} is not a valid namespace; "
            "nothing was sent"
        )
    if name is None:
        return namespace
    if not valid_name(name):
        raise InvalidAddress(
            f"{what}: refused: {shown(name)} is not a valid endpoint name (lowercase letters, "
            "digits and '-', starting with a letter, at most 32 characters); nothing was sent"
        )
    return f"{namespace}/{name}"


def _root_cause(exc: BaseException) -> BaseException:
    while (cause := exc.__cause__ or exc.__context__) is not None:
        exc = cause
    return exc


def _url_of(exc: httpx2.TransportError) -> str:
    try:
        url = exc.request.url
    except RuntimeError:  # raised without its request
        return "the API"
    return f"{url.scheme}://{url.netloc.decode()}"


def _transport_error(what: str, exc: httpx2.TransportError) -> ApiError:
    """A connection failure, naming the URL tried: a name that does not resolve is final, a
    refused connection is retried once, anything else (a reset, a timeout) is transient."""
    cause, url = _root_cause(exc), _url_of(exc)
    if isinstance(cause, socket.gaierror) and cause.errno != socket.EAI_AGAIN:
        return Unreachable(
            f"{what}: cannot connect to {url}: its host name does not resolve; {URL_HINT}"
        )
    if isinstance(cause, ConnectionRefusedError):
        return Refused(
            f"{what}: cannot connect to {url}: connection refused (nothing listens there); "
            f"start the emulator (`provisioner emulator`) or {URL_HINT}"
        )
    return Transient(f"{what}: {type(exc).__name__} from {url}: {exc}")


def _translate(what: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except (RedirectRefused, Overrun) as exc:
        raise ApiError(f"{what}: {exc.text}") from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code
        message = f"{what}: {status} {_server_text(exc) or exc.response.reason_phrase}"
        raise classify(status, message, retry_after=_retry_after(exc.response)) from exc
    except httpx2.LocalProtocolError as exc:
        # The request could not even be written (an illegal header value): retrying cannot
        # help, and the exception's text would quote the header, token included.
        raise ApiError(f"{what}: the request could not be sent: {type(exc).__name__}") from exc
    except httpx2.TransportError as exc:
        raise _transport_error(what, exc) from exc
    except (KeyError, TypeError, ValueError) as exc:
        # A 200 whose body lacks what the client (or provisioner) needs: this call's failure,
        # reported for its endpoint, while the others go on.
        raise MalformedResponse(
            f"{what}: the service's answer could not be read ({type(exc).__name__}: {exc})"
        ) from exc


def _page(what: str, body: Any) -> tuple[list[Any], str | None]:
    """A list response's items and its next cursor (None on the last page)."""
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ApiError(f"{what}: the response has no list of items")
    cursor = body.get("nextCursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ApiError(f"{what}: the response's nextCursor is not a string")
    return items, cursor or None


def follow_pages(
    what: str, fetch: Callable[[str, str | None], Any], limits: Limits = Limits()
) -> Iterator[list[Any]]:
    """The items of each page, page after page: `fetch(what, cursor)` (no cursor first) while
    the response carries a `nextCursor`. A cursor sent twice is an error, not an endless loop;
    so is a listing past `limits.pages` pages or `limits.listed` items."""
    cursors: set[str] = set()
    cursor: str | None = None
    count = 0
    while True:
        this = what if not cursors else f"{what} (page {len(cursors) + 1})"
        page, cursor = _page(this, fetch(this, cursor))
        count += len(page)
        if count > limits.listed:
            raise ApiError(
                f"{this}: the service listed more than {limits.listed:,} endpoints in one "
                "namespace; stopped listing (a namespace that large is not one provisioner "
                "plans for)"
            )
        yield page
        if cursor is None:
            return
        if cursor in cursors:
            raise ApiError(
                f"{this}: the service sent a nextCursor it had already sent; stopped listing "
                "rather than loop forever"
            )
        if len(cursors) + 1 >= limits.pages:
            raise ApiError(
                f"{this}: the service is still sending pages after {limits.pages:,}; stopped "
                "listing rather than loop forever"
            )
        cursors.add(cursor)


def hardware_from_client(row: InferenceEndpointHardware) -> Hardware:
    """One hardware row as the client parsed it, with this namespace's quota."""
    return Hardware(
        vendor=row.vendor,
        region=row.region,
        accelerator=row.accelerator,
        instance_type=row.instance_type,
        instance_size=row.instance_size,
        status=row.status,
        price_per_hour=row.price_per_hour,
        num_accelerators=row.num_accelerators,
        quota_max=row.max_accelerators,
        quota_used=row.used_accelerators,
    )


class HubApi:
    """`EndpointsApi` over the real `huggingface_hub` client."""

    def __init__(self, connection: Connection, retrier: Retrier) -> None:
        self._token = connection.token
        self._retrier = retrier
        # The client reads these module constants at call time; pointing them here is the
        # documented way to target another server (the emulator). The whoami and agent-harness
        # lookups go to `ENDPOINT`.
        constants.INFERENCE_ENDPOINTS_ENDPOINT = f"{connection.api_url}/v2"
        constants.ENDPOINT = connection.hub_url
        self._connection = connection
        self._limits = connection.limits
        _session(self._limits)
        self._api = HfApi(endpoint=connection.hub_url, token=self._token)
        # The deadline of the phase under way (`phase`), for every thread that calls.
        self._phase: tuple[float, str] | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Every call made inside the block, from any thread, must be done within
        `limits.phase_seconds` of its start."""
        seconds = self._limits.phase_seconds
        outer = self._phase
        self._phase = (
            time.monotonic() + seconds,
            f"the {seconds:.0f} s {name} may take ({READ_TIMEOUT_VARIABLE} sets it)",
        )
        try:
            yield
        finally:
            self._phase = outer

    def _session(self) -> httpx2.Client:
        return _session(self._limits)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        self._session()  # the hooks and bounds, should the client have made a new session
        phase = self._phase

        def call() -> T:
            if phase is None:
                return _translate(what, fn)
            with within(*phase):
                return _translate(what, fn)

        return self._retrier.call(what, call)

    def identity(self) -> Identity:
        me = self._call("whoami", lambda: self._api.whoami(token=self._token))
        orgs = tuple(str(o["name"]) for o in me.get("orgs", []) if isinstance(o, dict))
        return Identity(user=str(me["name"]), orgs=orgs)

    def list_endpoints(self, namespace: str) -> Listing:
        """Every endpoint of `namespace`, page after page while the response carries a
        `nextCursor` (huggingface_hub's `list_inference_endpoints` reads only the first page's
        `items`, and fails the whole list on one item it cannot parse). Each item is read on its
        own: one the client could not read is returned as `Unreadable`, by name."""

        checked(f"list endpoints of {shown(namespace)}", namespace)
        limits = self._limits
        seconds = limits.listing_seconds
        deadline = (time.monotonic() + seconds, f"the {seconds:.0f} s a listing may take")
        received = [0]  # bytes of every page so far

        def fetch(what: str, cursor: str | None) -> Any:
            with within(*deadline):
                body = self._call(
                    what, functools.partial(self._list_page, namespace, cursor, received)
                )
            if received[0] > limits.listing_bytes:
                raise ApiError(
                    f"{what}: the listing is larger than {_size(limits.listing_bytes)}; "
                    "stopped listing"
                )
            return body

        # Each page is read into endpoints as it comes: a large listing's JSON is never all
        # held at once.
        reader = ListingReader(namespace)
        for page in follow_pages(f"list endpoints of {namespace}", fetch, limits):
            reader.add(page)
        return reader.listing()

    def _list_page(self, namespace: str, cursor: str | None, received: list[int]) -> Any:
        # Through huggingface_hub's own session, headers and error handling, as its
        # `list_inference_endpoints` does.
        response = self._session().get(
            f"{constants.INFERENCE_ENDPOINTS_ENDPOINT}/endpoint/{namespace}",
            headers=build_hf_headers(token=self._token),
            params={"cursor": cursor} if cursor is not None else None,
        )
        hf_raise_for_status(response)
        received[0] += len(response.content)
        try:
            return response.json()
        except ValueError as error:
            raise ApiError(f"list endpoints of {namespace}: the response is not JSON") from error

    def _endpoint(
        self, what: str, namespace: str, name: str, fn: Callable[[], Any]
    ) -> LiveEndpoint:
        """Call `fn` (a client call answering one endpoint) and read its answer, both inside the
        retrier: an answer that cannot be read is this endpoint's error, never a crash. An
        answer about another name than the one asked is not taken for it."""

        def read() -> LiveEndpoint:
            found = fn()
            raw = found if isinstance(found, dict) else found.raw
            if raw.get("name") != name:
                raise MalformedResponse(
                    f"{what}: the service answered about {shown(raw.get('name'))}, not {name!r}"
                )
            return endpoint_from_raw(raw, namespace)

        return self._call(what, read)

    def get_endpoint(self, namespace: str, name: str) -> LiveEndpoint:
        return self._endpoint(
            f"get {checked('get', namespace, name)}",
            namespace,
            name,
            lambda: self._api.get_inference_endpoint(name, namespace=namespace, token=self._token),
        )

    def list_hardware(self, namespace: str) -> list[Hardware]:
        checked(f"list hardware of {shown(namespace)}", namespace)
        rows = self._call(
            f"list hardware of {namespace}",
            lambda: self._api.list_inference_endpoints_hardware(
                namespace=namespace, token=self._token
            ),
        )
        return [hardware_from_client(row) for row in rows]

    def create_endpoint(
        self, namespace: str, name: str, config: Config, secrets: Secrets
    ) -> LiveEndpoint:
        address = checked("create", namespace, name)
        arguments = create_arguments(config, secrets.values)

        def create() -> Any:
            return self._api.create_inference_endpoint(
                name, namespace=namespace, token=self._token, **arguments
            )

        return self._endpoint(f"create {address}", namespace, name, create)

    def update_endpoint(
        self,
        namespace: str,
        name: str,
        config: Config,
        secrets: Secrets | None,
        *,
        fields: Collection[str],
    ) -> LiveEndpoint:
        # One PUT with what changed, sent through huggingface_hub's own session and error
        # handling (as `update_inference_endpoint` does, which cannot change `type`); two PUTs
        # would expose an intermediate configuration the service may reject.
        address = checked("update", namespace, name)
        body = update_body(config, None if secrets is None else secrets.values, fields=fields)

        def put() -> dict[str, Any]:
            response = self._session().put(
                f"{constants.INFERENCE_ENDPOINTS_ENDPOINT}/endpoint/{address}",
                headers=build_hf_headers(token=self._token),
                json=body,
                follow_redirects=False,
            )
            hf_raise_for_status(response)
            raw: dict[str, Any] = response.json()
            return raw

        return self._endpoint(f"update {address}", namespace, name, put)

    def pause(self, namespace: str, name: str) -> LiveEndpoint:
        return self._endpoint(
            f"pause {checked('pause', namespace, name)}",
            namespace,
            name,
            lambda: self._api.pause_inference_endpoint(
                name, namespace=namespace, token=self._token
            ),
        )

    def resume(self, namespace: str, name: str) -> LiveEndpoint:
        return self._endpoint(
            f"resume {checked('resume', namespace, name)}",
            namespace,
            name,
            lambda: self._api.resume_inference_endpoint(
                name, namespace=namespace, token=self._token, running_ok=True
            ),
        )

    def delete_endpoint(self, namespace: str, name: str) -> None:
        self._call(
            f"delete {checked('delete', namespace, name)}",
            lambda: self._api.delete_inference_endpoint(
                name, namespace=namespace, token=self._token
            ),
        )

    def endpoint_logs(
        self,
        namespace: str,
        name: str,
        *,
        tail: int | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[str]:
        """`GET /v2/endpoint/{ns}/{name}/logs` (text, one line per log line), through
        huggingface_hub's session, headers and error handling as `_list_page`; `since` and
        `until` are the API's `from` and `to`. Retried as every read is."""
        address = checked("logs", namespace, name)
        query = {"from": since, "to": until, "tail": tail}
        params = {key: str(value) for key, value in query.items() if value is not None}

        def get() -> list[str]:
            response = self._session().get(
                f"{constants.INFERENCE_ENDPOINTS_ENDPOINT}/endpoint/{address}/logs",
                headers=build_hf_headers(token=self._token),
                params=params or None,
            )
            hf_raise_for_status(response)
            # Split at newlines only: any other control character stays in its line, for the
            # scrubber to show escaped (`splitlines` would break at \x1c or \x85 too).
            text = response.text.removesuffix("\n")
            return [line.removesuffix("\r") for line in text.split("\n")] if text else []

        return self._call(f"logs of {address}", get)

    def health(self, endpoint: LiveEndpoint) -> int:
        """Status code of the endpoint's health route (0 when unreachable). Not retried: the
        waiter polls it. A URL the token may not go to is `UntrustedUrl`, and not probed."""
        if endpoint.url is None:
            return 0
        url = f"{endpoint.url.rstrip('/')}/{endpoint.health_route.lstrip('/')}"
        self._trusted(f"health probe of {endpoint.address}", url)
        try:
            return self._session().get(url, headers=build_hf_headers(token=self._token)).status_code
        except (httpx2.TransportError, Overrun):
            return 0

    def post_to_endpoint(
        self,
        endpoint: LiveEndpoint,
        body: Mapping[str, Any],
        *,
        scale_up_timeout: float,
        purpose: str = "smoke test",
    ) -> Answer:
        """POST `body` as JSON to the endpoint's URL, as a client of the model would, with the
        documented `X-Scale-Up-Timeout` (a scaled-to-zero endpoint then holds the request while
        a replica starts, instead of answering 503). Any status is an answer, not an error;
        not retried (the smoke runner decides what a 503 means). The token is blanked out of
        the answer's text, should the endpoint echo the request's headers. `purpose` names the
        request in errors (a smoke test, `provisioner invoke`)."""
        what = f"{purpose} of {endpoint.address}"
        if endpoint.url is None:
            raise ApiError(f"{what}: the endpoint has no URL")
        self._trusted(what, endpoint.url)
        headers = build_hf_headers(token=self._token)
        headers["X-Scale-Up-Timeout"] = f"{scale_up_timeout:.0f}"
        # The service may hold the request for the whole scale-up timeout: read for longer.
        timeout = httpx2.Timeout(scale_up_timeout + 60.0, connect=10.0)
        try:
            response = self._session().post(
                endpoint.url, headers=headers, json=dict(body), timeout=timeout
            )
        except (RedirectRefused, Overrun) as exc:
            raise ApiError(f"{what}: {exc.text}") from exc
        except httpx2.LocalProtocolError as exc:
            raise ApiError(f"{what}: the request could not be sent: {type(exc).__name__}") from exc
        except httpx2.TransportError as exc:
            raise _transport_error(what, exc) from exc
        text = response.text
        if self._token:
            text = text.replace(self._token, "***")
        return Answer(response.status_code, text)

    def _trusted(self, what: str, url: str) -> None:
        if not token_may_go_to(url, self._connection):
            parts = urlsplit(url)
            raise UntrustedUrl(
                f"{what}: refused: the service gives the endpoint's URL as {parts.scheme}://"
                f"{clip(parts.netloc, 100)}, which is neither the API's host nor an https URL "
                f"under *{ENDPOINTS_DOMAIN}; nothing was sent (it would carry the token)"
            )

    def model_commit(self, repository: str, revision: str | None) -> str:
        """The commit `revision` (None: the default branch) of model `repository` is at now,
        from the Hub's model info. A revision the repository lacks is `UnknownRevision`."""
        what = f"model info of {repository}" + (f"@{revision}" if revision else "")

        def info() -> str:
            try:
                found = self._api.model_info(repository, revision=revision, token=self._token)
            except RevisionNotFoundError as exc:
                raise UnknownRevision(
                    f"{what}: {exc.response.status_code} no such revision",
                    status=exc.response.status_code,
                ) from exc
            if not found.sha:
                raise ApiError(f"{what}: the Hub returned no commit sha")
            return str(found.sha)

        return self._call(what, info)


def run_hf_cli(api_url: str | None, args: list[str]) -> None:
    """huggingface_hub's own `hf` CLI, pointed at `api_url` (the emulator) when given. Its
    Inference Endpoints URL is a constant, not an option, so it is set here before `hf` runs;
    `HF_ENDPOINT` (whoami, the Hub) goes to the same place, as the emulator serves both."""
    if api_url is not None:
        base = api_url.rstrip("/").removesuffix("/v2")
        _check_url(base, "--api-url / PROVISIONER_API_URL")
        constants.ENDPOINT = base
        constants.INFERENCE_ENDPOINTS_ENDPOINT = f"{base}/v2"
    from huggingface_hub.cli.hf import main as hf_main

    sys.argv = ["hf", *args]
    hf_main()  # type: ignore[no-untyped-call]


__all__ = ["ApiError", "Connection", "EndpointsApi", "HubApi", "resolve_connection", "run_hf_cli"]
