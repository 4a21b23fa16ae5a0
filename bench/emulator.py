"""The emulator as a separate process (`provisioner emulator`), with latency, and its admin
routes: reset, bulk seeding, the request log."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

TOKEN = "hf_demo"
USER = "demo"


def emulator_config(namespaces: Iterable[str]) -> dict[str, Any]:
    """The user `demo` (token `hf_demo`) in every benchmark namespace, with quotas a fleet of
    thousands fits in."""
    orgs = sorted(set(namespaces))
    big = {"aws": {"intel-spr": 1_000_000, "intel-icl": 1_000_000}}
    return {
        "users": [{"name": USER, "tokens": [TOKEN], "orgs": orgs}],
        "orgs": [{"name": ns} for ns in orgs],
        "quotas": {"*": big},
    }


class EmulatorProcess:
    def __init__(
        self, bin_dir: Path, work: Path, *, latency_ms: int, speed: float, namespaces: list[str]
    ) -> None:
        config = work / "emulator-config.json"
        config.write_text(json.dumps(emulator_config(namespaces)))
        self._log = (work / "emulator.log").open("w")
        self._proc = subprocess.Popen(
            [
                str(bin_dir / "provisioner"),
                "emulator",
                "--port",
                "0",
                "--latency-ms",
                str(latency_ms),
                "--speed",
                str(speed),
                "--config",
                str(config),
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self._proc.stdout is not None
        self.url = self._proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the emulator did not start; see {work / 'emulator.log'}")

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def admin(self, method: str, route: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/admin/{route}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=300) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        self.admin("POST", "reset")

    def seed(self, namespace: str, bodies: list[dict[str, Any]], state: str = "running") -> None:
        reply = self.admin(
            "POST", "seed", {"namespace": namespace, "endpoints": bodies, "state": state}
        )
        assert reply["seeded"] == len(bodies), reply

    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.admin("GET", "requests")
        return entries

    def clear_requests(self) -> None:
        self.admin("DELETE", "requests")


def route_of(entry: Mapping[str, Any]) -> str:
    """`METHOD /route/{template}` of a request-log entry: names and namespaces folded."""
    method, segs = entry["method"], entry["path"].strip("/").split("/")
    if segs[:2] == ["v2", "endpoint"]:
        tail = ["{ns}", "{name}", *segs[4:]][: len(segs) - 2]
        return f"{method} /v2/endpoint/" + "/".join(tail)
    if segs[:3] == ["v2", "provider", "quotas"]:
        return f"{method} /v2/provider/quotas/{{ns}}"
    if segs[:2] == ["v2", "provider"]:
        return f"{method} /v2/provider" + ("/{ns}" if len(segs) > 2 else "")
    if segs[0] == "endpoints" and len(segs) >= 3:
        return f"{method} /endpoints/{{ns}}/{{name}}/" + "/".join(segs[3:])
    return f"{method} /" + "/".join(segs)


def calls_by_route(entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(route_of(e) for e in entries).items()))


def lists_by_namespace(entries: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """List calls (every page counts) per namespace."""
    found = Counter(e["namespace"] for e in entries if route_of(e) == "GET /v2/endpoint/{ns}")
    return dict(sorted(found.items()))
