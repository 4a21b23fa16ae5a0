"""Keeping endpoints and emulated time across restarts in a JSON data file.

Owns the file format (`{"format": "provisioner-emulator/1", "clock": {"now", "epoch"}, "endpoints":
[...]}`) and writing it atomically (temporary file in the same directory, fsync, `os.replace`), so a
crash leaves either the old or the new file, never half of one. Writes are batched by a background
thread (at most every `interval` seconds, only when something changed, and once more on stop): with
5 000 endpoints a write per request would make bulk creation quadratic. Faults and the request log
are deliberately not persisted. Secret values never reach the file: the store keeps keys only.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from provisioner.emulator.clock import iso_millis, parse_iso
from provisioner.emulator.config import ConfigError
from provisioner.emulator.lifecycle import Record
from provisioner.emulator.service import Service

FORMAT = "provisioner-emulator/1"
TIME_SLACK = 60.0  # emulated seconds the file's clock may lag behind while nothing else changes


@dataclass(frozen=True)
class Snapshot:
    now: float
    epoch: datetime
    records: list[Record]


def read_snapshot(path: Path) -> Snapshot | None:
    """The saved state, None when the file does not exist yet; ConfigError when it is unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(f"cannot read data file {path}: {err.strerror or err}") from err
    try:
        raw = json.loads(text)
        if raw.get("format") != FORMAT:
            raise ConfigError(f"data file {path}: unknown format {raw.get('format')!r}")
        return Snapshot(
            now=float(raw["clock"]["now"]),
            epoch=parse_iso(raw["clock"]["epoch"]),
            records=[Record.from_json(r) for r in raw["endpoints"]],
        )
    except ConfigError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ConfigError(f"data file {path} is not a valid emulator data file ({err!r})") from err


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class Saver:
    """Flushes the service's store to `path` whenever its version moves."""

    def __init__(self, path: Path, service: Service, *, interval: float = 0.2) -> None:
        self._path = path
        self._service = service
        self._interval = interval
        self._saved_version: int | None = None
        self._saved_now: float | None = None
        self._stop = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            self.flush(force=True)
        except OSError as err:
            raise ConfigError(
                f"cannot write data file {self._path}: {err.strerror or err}"
            ) from err
        self._thread = threading.Thread(target=self._run, name="emulator-saver", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush(force=True)

    def flush(self, *, force: bool = False) -> None:
        """Write if endpoints changed, or emulated time moved by more than `TIME_SLACK` seconds
        since the last write (so a crash loses little time), or when forced."""
        with self._write_lock:
            with self._service.lock:
                version = self._service.store.version
                now = self._service.clock.now()
                moved = self._saved_now is None or now - self._saved_now > TIME_SLACK
                if not force and version == self._saved_version and not moved:
                    return
                text = self._document(now)
            write_atomic(self._path, text)
            self._saved_version, self._saved_now = version, now

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.flush()
            except OSError:
                # Disk trouble must not kill the server; the next tick (or stop) retries.
                continue

    def _document(self, now: float) -> str:
        service = self._service
        doc: dict[str, Any] = {
            "format": FORMAT,
            "clock": {"now": now, "epoch": iso_millis(service.clock.epoch)},
            "endpoints": [rec.to_json() for rec in service.store.records()],
        }
        return json.dumps(doc, separators=(",", ":")) + "\n"
