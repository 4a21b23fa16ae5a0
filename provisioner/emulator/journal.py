"""The request log behind `GET /admin/requests` and `Emulator.requests()`.

Owns the entry format, its bounded storage and the redaction of request bodies: entries never hold
a secret (secret values, registry passwords and token-looking env values become `***`), and headers
are never recorded at all.
"""

from __future__ import annotations

import copy
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from provisioner.emulator.images import redact_request_image


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
    request_id: str  # echoed as `x-request-id`; the client prints it as "(Request ID: ...)"

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
            "requestId": self.request_id,
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


# --- redaction --------------------------------------------------------------------
# provisioner's own definition of "looks secret" is `provisioner.spec.secrets`; the emulator may
# import nothing from provisioner, so its request log keeps this small copy of its own.

_SECRETISH_ENV = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY)$", re.IGNORECASE)


def redact_request(body: Any) -> Any:
    """A copy of a raw request body that is safe to log: secret values, registry passwords and
    token-looking env values replaced by `***`."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), dict):
        return body
    model = dict(body["model"])
    if isinstance(model.get("secrets"), dict):
        model["secrets"] = dict.fromkeys(model["secrets"], "***")
    if isinstance(model.get("env"), dict):
        model["env"] = {
            k: "***" if _SECRETISH_ENV.search(str(k)) else v for k, v in model["env"].items()
        }
    if "image" in model:
        model["image"] = redact_request_image(model["image"])
    return {**body, "model": model}
