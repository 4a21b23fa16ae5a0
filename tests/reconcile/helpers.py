"""Small helpers for reconciler tests: specs on disk, request-log queries."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.support.cli import Result

MUTATING = ("POST", "PUT", "DELETE")


def write_spec(directory: Path, name: str, **fields: Any) -> Path:
    spec: dict[str, Any] = {
        "name": name,
        "model": {"repository": "gpt2", "task": "text-generation"},
        "compute": {
            "vendor": "aws",
            "region": "us-east-1",
            "accelerator": "cpu",
            "instance_type": "intel-spr",
            "instance_size": "x2",
        },
    }
    for key, value in fields.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def hub_commit(emu: Emulator, repository: str, revision: str | None = None) -> str:
    """The commit the emulated Hub's model info gives for a repository's revision (default
    branch when None), through the real client."""
    return str(
        HfApi(endpoint=emu.url, token="hf_demo").model_info(repository, revision=revision).sha
    )


def api_calls(emu: Emulator) -> list[tuple[str, str]]:
    return [
        (r["method"], r["path"])
        for r in emu.requests()
        if r["path"].startswith(("/v2/", "/api/whoami"))
    ]


def mutations(emu: Emulator) -> list[tuple[str, str]]:
    return [(m, p) for m, p in api_calls(emu) if m in MUTATING]


def live(emu: Emulator, namespace: str = "acme") -> dict[str, dict[str, Any]]:
    """The endpoints as the API lists them (through the admin-free public route)."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{emu.url}/v2/endpoint/{namespace}", headers={"Authorization": "Bearer hf_demo"}
    )
    with urllib.request.urlopen(request) as response:
        items = json.load(response)["items"]
    emu.clear_requests()
    return {item["name"]: item for item in items}


def unmanaged(api: HfApi, name: str, **extra: Any) -> None:
    """An endpoint made outside provisioner (by hand, through the real client)."""
    fields: dict[str, Any] = {
        "namespace": "acme",
        "repository": "gpt2",
        "framework": "pytorch",
        "accelerator": "cpu",
        "instance_type": "intel-spr",
        "instance_size": "x2",
        "vendor": "aws",
        "region": "us-east-1",
    }
    api.create_inference_endpoint(name, **{**fields, **extra})


def team_stack(specs: Path, *names: str) -> None:
    """Stack `team` in namespace acme at `specs`, with a minimal spec for each name."""
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\n")
    for name in names:
        write_spec(specs, name)


def apply_ok(cli: Callable[..., Result], specs: Path) -> None:
    """`apply --auto-approve` of `specs`, which must succeed."""
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text


def plans_clean(cli: Callable[..., Result], specs: Path) -> None:
    """`plan --detailed-exitcode` of `specs`, which must find nothing to change."""
    result = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert result.code == 0, result.text


class Together:
    """The real API client, except that each call of `method` waits until `expected` calls are
    in flight at once: calls made one after another never get there, and the barrier breaks
    (the test then fails). `met` is True once they all were."""

    def __init__(self, api: Any, method: str, expected: int) -> None:
        self._api, self._method = api, method
        self._barrier = threading.Barrier(expected, timeout=20)
        self.met = False

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._api, name)
        if name != self._method:
            return found

        def held(*args: Any, **kwargs: Any) -> Any:
            self._barrier.wait()
            self.met = True
            return found(*args, **kwargs)

        return held
