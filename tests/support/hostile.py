"""Hosts a hostile or careless service could send provisioner to, for tests: a `Sink` (another
origin that records what reaches it and answers 200 to everything) and a `ListingProxy` (in
front of the emulator, it serves a namespace's list as the test writes it, page by page, and
passes every other request through untouched, so mutations land in the emulator's log). The
proxy can also list without end, trickle its listings a byte at a time, and rewrite the answer
to any one GET it forwards."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    authorized: bool  # an Authorization header came with it


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Sink:
    """Records each request's method, path and whether it carried a token; answers 200 `{}`."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.url = ""

    @contextmanager
    def running(self) -> Iterator[Sink]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                authorized = self.headers.get("authorization") is not None
                sink.seen.append(Seen(self.command, self.path, authorized))
                body = b"{}"
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        with _serving(Handler) as url:
            self.url = url
            yield self


class ListingProxy:
    """In front of `upstream` (the emulator's URL): `GET /v2/endpoint/<namespace>` of a namespace
    in `listings` answers those items, `page_size` per page with an opaque `nextCursor`; any
    other request is forwarded as it came (method, path, headers, body) and its answer relayed."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.listings: dict[str, list[Any]] = {}
        self.page_size = 100
        self.url = ""
        # Every page names a next one, never the same twice (past the items, pages are empty).
        self.endless = False
        # Seconds between the bytes of a listing's answer (its status line and headers too,
        # when `trickle_headers`): an answer that never stalls long enough for a read timeout.
        self.byte_delay = 0.0
        self.trickle_headers = False
        # GET paths whose forwarded JSON answer is passed through a function first.
        self.rewrite: dict[str, Callable[[Any], Any]] = {}
        self.pages_served = 0

    @contextmanager
    def running(self) -> Iterator[ListingProxy]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _trickle(self, body: bytes) -> None:
                head = (
                    f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(body)}\r\n\r\n"
                ).encode()
                if not proxy.trickle_headers:
                    self.wfile.write(head)
                    self.wfile.flush()
                    head = b""
                try:
                    for i in range(len(head + body)):
                        self.wfile.write((head + body)[i : i + 1])
                        self.wfile.flush()
                        time.sleep(proxy.byte_delay)
                except OSError:  # the client gave up: as it should
                    self.close_connection = True

            def _listing(self) -> bool:
                path, _, query = self.path.partition("?")
                namespace = path.removeprefix("/v2/endpoint/")
                if self.command != "GET" or namespace not in proxy.listings or "/" in namespace:
                    return False
                proxy.pages_served += 1
                items = proxy.listings[namespace]
                start = int(query.removeprefix("cursor=") or 0) if "cursor=" in query else 0
                end = start + proxy.page_size
                page: dict[str, Any] = {"items": items[start:end]}
                if end < len(items) or proxy.endless:
                    page["nextCursor"] = str(end)
                body = json.dumps(page).encode()
                if proxy.byte_delay:
                    self._trickle(body)
                else:
                    self._reply(200, [("content-type", "application/json")], body)
                return True

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                data = self.rfile.read(length) if length else None
                if self._listing():
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                request = urllib.request.Request(
                    proxy.upstream + self.path, data=data, method=self.command, headers=headers
                )
                try:
                    with urllib.request.urlopen(request) as response:
                        body = response.read()
                        change = proxy.rewrite.get(self.path) if self.command == "GET" else None
                        if change is not None:
                            body = json.dumps(change(json.loads(body))).encode()
                        self._reply(response.status, list(response.headers.items()), body)
                except urllib.error.HTTPError as error:
                    self._reply(error.code, list(error.headers.items()), error.read())

            do_GET = do_POST = do_PUT = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        with _serving(Handler) as url:
            self.url = url
            yield self
