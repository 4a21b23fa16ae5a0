"""`Emulator`: the in-process handle the rest of the project (tests, `make demo`) codes against.

Owns assembling the pieces (config, hardware, clock, service, HTTP server, data file) and their
lifecycle: `start()` serves on a daemon thread and returns the base URL, `stop()` shuts down cleanly
and joins it, the context manager does both. The admin controls (`advance`, `requests`, `add_fault`,
`reset`) act in process exactly as the `/admin/...` routes do over HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from provisioner.emulator.admin import admin_hosts
from provisioner.emulator.clock import Clock
from provisioner.emulator.config import EmulatorConfig
from provisioner.emulator.hardware import load_hardware
from provisioner.emulator.persistence import Saver, read_snapshot, restore
from provisioner.emulator.server import EmulatorHTTPServer
from provisioner.emulator.service import Service


class Emulator:
    """A local Hugging Face Inference Endpoints API. Not started until `start()` (or `with`)."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config if config is not None else EmulatorConfig()
        hardware = load_hardware(self.config.hardware_file)
        snapshot = read_snapshot(self.config.data_file) if self.config.data_file else None
        self.clock = Clock(
            self.config.speed,
            start=snapshot.now if snapshot is not None else 0.0,
            epoch=snapshot.epoch if snapshot is not None else self.config.epoch,
            monotonic=monotonic,
        )
        self._service = Service(self.config, clock=self.clock, hardware=hardware, sleep=sleep)
        if snapshot is not None and self.config.data_file is not None:
            restore(self._service, snapshot, self.config.data_file)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._saver: Saver | None = None
        self._url: str | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on `host:port` (0 = any free port) from a daemon thread; returns the base URL."""
        if self._server is not None:
            raise RuntimeError("the emulator is already started")
        if self.config.data_file is not None:
            # Written once now: a data file that cannot be written is refused at start, not
            # discovered at stop with everything since lost.
            saver = Saver(self.config.data_file, self._service)
            saver.start()
            self._saver = saver
        ipv6 = ":" in host
        server = EmulatorHTTPServer(
            (host, port), self._service, ipv6=ipv6, idle_timeout=self.config.idle_timeout
        )
        bound_port = server.server_address[1]
        self._url = f"http://{_display_host(host)}:{bound_port}"
        self._service.base_url = self._url
        self._service.admin_hosts = admin_hosts(host, bound_port)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"emulator-{bound_port}",
            daemon=True,
        )
        self._thread.start()
        return self._url

    def stop(self) -> None:
        """Stop serving, close open connections, join the thread, write the data file."""
        server, thread, saver = self._server, self._thread, self._saver
        self._server = self._thread = self._saver = None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join()
        if saver is not None:
            saver.stop()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the emulator is not started; call start() first")
        return self._url

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> Emulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- controls (same as /admin/...) --------------------------------------------------------

    def advance(self, seconds: float) -> float:
        """Move emulated time forward; due transitions happen on the next read. Returns now."""
        return self.clock.advance(seconds)

    def now(self) -> float:
        """Emulated seconds since the emulator's epoch."""
        return self.clock.now()

    def requests(self) -> list[dict[str, Any]]:
        """The request log, oldest first (secret values redacted)."""
        return self._service.journal.entries()

    def clear_requests(self) -> None:
        self._service.journal.clear()

    def add_fault(self, fault: dict[str, Any]) -> dict[str, Any]:
        """Script a fault (see `faults.py`); ValueError if malformed. Returns it with its id."""
        return self._service.faults.add(fault)

    def clear_faults(self) -> None:
        self._service.faults.clear()

    def move_branch(self, repository: str, branch: str = "main", sha: str | None = None) -> str:
        """Point a model repository's branch at `sha` (default: a new commit), as a push to the
        Hub would; the same as `POST /admin/models`. Returns the commit."""
        return self._service.models.move(repository, branch, sha)

    def set_visibility(self, repository: str, visibility: str) -> None:
        """Make a model repository `public`, `private`, `gated` or `absent` (every other valid
        id is public); the same as `POST /admin/models {"repository", "visibility"}`."""
        self._service.models.set_visibility(repository, visibility)

    def reset(self) -> None:
        """Forget every endpoint, fault and logged request; the clock keeps its time."""
        self._service.reset()

    def flush(self) -> None:
        """Write the data file now (normally done in the background and on stop)."""
        if self._saver is not None:
            self._saver.flush(force=True)


def _display_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
