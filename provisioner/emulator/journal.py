"""The request log behind `GET /admin/requests` and `Emulator.requests()`.

Owns the entry format and its bounded storage. Entries never hold a secret: bodies are redacted by
the caller before they get here (`schema.redact_request`), headers are never recorded at all.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    query: str
    status: int
    namespace: str | None
    name: str | None
    time: float  # emulated seconds
    at: str  # emulated wall time, ISO
    body: Any  # redacted JSON body, or None
    fault: str | None  # "scripted" / "random" when the answer was an injected fault

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "namespace": self.namespace,
            "name": self.name,
            "time": self.time,
            "at": self.at,
            "body": copy.deepcopy(self.body),
            "fault": self.fault,
        }


class Journal:
    """Oldest first; beyond `limit` entries the oldest are dropped."""

    def __init__(self, limit: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            snapshot = list(self._entries)
        return [e.to_json() for e in snapshot]

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
        return count
