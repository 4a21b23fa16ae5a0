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
import math
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from provisioner.emulator.clock import iso_millis, parse_iso
from provisioner.emulator.config import ConfigError
from provisioner.emulator.lifecycle import Record
from provisioner.emulator.render import render
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
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"data file {path} is not UTF-8 text ({err.reason} at byte {err.start})"
        ) from err
    except OSError as err:
        raise ConfigError(f"cannot read data file {path}: {err.strerror or err}") from err
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ConfigError(f"data file {path} holds {_kind(raw)}, expected an object")
        if raw.get("format") != FORMAT:
            raise ConfigError(f"data file {path}: unknown format {raw.get('format')!r}")
        now = float(raw["clock"]["now"])
        if not math.isfinite(now):
            raise ValueError(f"clock.now is {now}")
        endpoints = raw["endpoints"]
        if not isinstance(endpoints, list):
            raise ValueError(f"endpoints is {_kind(endpoints)}, expected a list")
        return Snapshot(
            now=now,
            epoch=parse_iso(raw["clock"]["epoch"]),
            records=[_record(r, f"endpoints[{i}]") for i, r in enumerate(endpoints)],
        )
    except ConfigError:
        raise
    # RecursionError: JSON nested deeper than the parser goes.
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as err:
        raise ConfigError(f"data file {path} is not a valid emulator data file ({err!r})") from err


def _kind(value: object) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _record(raw: object, where: str) -> Record:
    """One saved endpoint, its shape checked first: a name that is a number would load and then
    be served as one."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where} is {_kind(raw)}, expected an object")
    for key in ("namespace", "name", "createdBy", "updatedBy"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ValueError(f"{where}.{key} is {raw.get(key)!r}, expected a non-empty string")
    if not isinstance(raw.get("spec"), dict):
        raise ValueError(f"{where}.spec is {_kind(raw.get('spec'))}, expected an object")
    if not isinstance(raw.get("timeline"), list) or not raw["timeline"]:
        raise ValueError(f"{where}.timeline is {raw.get('timeline')!r}, expected a non-empty list")
    return Record.from_json(raw)


def restore(service: Service, snapshot: Snapshot, path: Path) -> None:
    """Load the saved endpoints, then render each one as a GET would: a file that parses but
    holds an endpoint the emulator cannot serve (a spec without its model, say) is refused now,
    naming the file, instead of answering 500 on the first request."""
    where = "its endpoints"
    try:
        with service.lock:
            service.store.load(snapshot.records)
            for rec in service.store.records():
                where = f"endpoint {rec.namespace}/{rec.name}"
                render(rec, base_url="http://127.0.0.1", iso=service.clock.iso)
    # Whatever a hand-edited file breaks, the file is at fault, not the emulator.
    except Exception as err:
        raise ConfigError(
            f"data file {path} is not a valid emulator data file ({where}: {err!r})"
        ) from err


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
