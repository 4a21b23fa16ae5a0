"""The HTTP/1.1 adapter: `ThreadingHTTPServer` in front of `Service.handle`.

Owns sockets and framing only: keep-alive, a `Content-Length` on every response, chunked request
bodies, a size limit, an idle timeout per connection, every method (a JSON 405, never the
stdlib's HTML 501) and JSON for the stdlib's own errors, the client's address on each request, and
closing idle keep-alive connections on shutdown so `stop()` returns
promptly and no handler thread outlives the emulator. It never logs headers (they carry tokens) and
never prints a traceback: the stdlib's default error output is routed to the `provisioner.emulator`
logger.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from provisioner.emulator.service import Service
from provisioner.emulator.wire import ApiError, Request, Response

log = logging.getLogger("provisioner.emulator")

MAX_BODY = 16 * 1024 * 1024


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The listen backlog: the default 5 resets connections when dozens of clients connect at
    # once (a test suite's thread pool, a load test).
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        service: Service,
        *,
        ipv6: bool = False,
        idle_timeout: float = 30.0,
    ) -> None:
        self.address_family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.service = service
        self.idle_timeout = idle_timeout
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, *, alive: bool) -> None:
        with self._conns_lock:
            if alive:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
            self._conns.clear()
        for conn in conns:
            with contextlib.suppress(OSError):  # already closed by the peer
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client vanishing mid-request is normal (tests stop emulators with connections open).
        log.debug("emulator: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "provisioner-emulator/0.1"
    sys_version = ""
    server: EmulatorHTTPServer

    def setup(self) -> None:
        # A socket timeout on every read and write: a client that stalls mid-request, or keeps
        # an idle connection open, is closed after it (`handle_one_request` treats the timeout
        # as the end of the connection) instead of holding its thread forever.
        super().setup()
        self.connection.settimeout(self.server.idle_timeout)
        # Without this, Nagle's algorithm meets the client's delayed ACK on keep-alive connections
        # and every small response waits ~40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, alive=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, alive=False)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    if not TYPE_CHECKING:  # hidden from mypy, which would type every unknown attribute by it

        def __getattr__(self, name: str) -> Callable[[], None]:
            # `handle_one_request` looks up `do_<METHOD>` and answers a method it finds none for
            # (OPTIONS, TRACE, anything) with the stdlib's HTML 501. Every method goes to the
            # service instead, which answers 404 for no such route and a JSON 405 with `Allow`
            # for a method the route does not take.
            if name.startswith("do_"):
                return self._dispatch
            raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The stdlib's own errors (a malformed request line, one too long, too many headers)
        # are an HTML page there; here they are JSON, as every other answer.
        self.close_connection = True
        text = message or self.responses.get(code, ("Error",))[0]
        self._send(ApiError(code, text, prefix=False).response(), head=self.command == "HEAD")

    def _dispatch(self, *, head: bool = False) -> None:
        try:
            body = self._read_body()
        except ApiError as err:
            self.close_connection = True
            self._send(err.response(), head=head)
            return
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(
            method="GET" if head else self.command,
            path=parts.path or "/",
            query=parts.query,
            headers=headers,
            body=body,
            host=headers.get("host"),
            peer=str(self.client_address[0]),
        )
        self._send(self.server.service.handle(request), head=head)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length_text = self.headers.get("Content-Length")
        if not length_text:
            return b""
        try:
            length = int(length_text)
        except ValueError as err:
            raise ApiError(400, "invalid Content-Length") from err
        if length < 0 or length > MAX_BODY:
            raise ApiError(413, f"request body larger than {MAX_BODY} bytes")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as err:
                raise ApiError(400, "malformed chunked body") from err
            if size < 0:
                raise ApiError(400, "malformed chunked body (negative chunk size)")
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise ApiError(413, f"request body larger than {MAX_BODY} bytes")
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)  # CRLF after each chunk

    def _send(self, response: Response, *, head: bool) -> None:
        # Status line, headers and body in a single write: one TCP segment for small answers.
        reason = self.responses.get(response.status, ("",))[0]
        lines = [
            f"{self.protocol_version} {response.status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(response.body)}",
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        if self.close_connection:
            lines.append("Connection: close")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
        self.wfile.write(head_bytes if head else head_bytes + response.body)
        self.log_request(response.status)

    def log_message(self, format: str, *args: Any) -> None:
        # The request line never carries a secret, but stay quiet unless debugging.
        log.debug("emulator: " + format, *args)
