"""Raw HTTP to the emulator with urllib, for what the client hides (status, headers, bodies)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def call(
    method: str,
    url: str,
    body: Any = None,
    *,
    token: str | None = "hf_demo",
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """`body` is sent as JSON; `raw` as given (with a JSON content type unless overridden)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return Reply(
                resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode()
            )
    except urllib.error.HTTPError as err:
        return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read().decode())


def create_body(name: str = "ep", **overrides: Any) -> dict[str, Any]:
    """The smallest valid create body (public, CPU x1 on aws/us-east-1, gpt2)."""
    body: dict[str, Any] = {
        "name": name,
        "type": "public",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "cpu",
            "instanceType": "intel-spr",
            "instanceSize": "x1",
            "scaling": {"minReplica": 1, "maxReplica": 1},
        },
        "model": {"repository": "gpt2", "framework": "pytorch", "image": {"huggingface": {}}},
    }
    return {**body, **overrides}
