"""Spec folders of N endpoints (as `endpoints/` is laid out) and the matching live fleet.

A folder has `_settings.yaml` (stack `bench`), `_defaults.yaml` (vendor, region, type,
scaling) and one sub-folder per namespace whose `_defaults.yaml` sets `namespace:`. Endpoint `i`
lives in namespace `i % namespaces`. A "changed" folder raises `max_replicas` of one spec in
ten (10 %, spread over the namespaces), an in-place update.

The live fleet is seeded with the create body provisioner itself sends: one spec is applied
for real (`provisioner apply`) and its POST body, taken from the emulator's request log, is the
template every other endpoint's body is made from (only the name differs), so a plan of the
unchanged folder against the seeded fleet has nothing to do (the harness checks that).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

STACK = "bench"
TEMPLATE_NAME = "ep-template"


def namespace(k: int) -> str:
    return f"bench-{k}"


def name(i: int) -> str:
    return f"ep-{i:05d}"


def changed(i: int) -> bool:
    """One endpoint in each block of ten, at a different place in each block, so the changes
    fall in every namespace (`i % 10 == 0` would put them all in the first of 5)."""
    return i % 10 == (i // 10) % 10


def placement(n: int, namespaces: int) -> dict[str, list[str]]:
    """Namespace -> endpoint names."""
    out: dict[str, list[str]] = {namespace(k): [] for k in range(namespaces)}
    for i in range(n):
        out[namespace(i % namespaces)].append(name(i))
    return out


def spec_text(endpoint: str, *, max_replicas: int = 1) -> str:
    return (
        f"name: {endpoint}\n"
        "model:\n"
        "  repository: gpt2\n"
        "  task: text-generation\n"
        "compute:\n"
        "  accelerator: cpu\n"
        "  instance_type: intel-spr\n"
        "  instance_size: x2\n"
        "scaling:\n"
        "  min_replicas: 1\n"
        f"  max_replicas: {max_replicas}\n"
        "tags: [bench]\n"
    )


def write_specs(root: Path, n: int, namespaces: int, *, with_changes: bool = False) -> Path:
    """The spec folder of `n` endpoints over `namespaces` namespaces; returns `root`."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "_settings.yaml").write_text(f"stack: {STACK}\nnamespace: {namespace(0)}\n")
    (root / "_defaults.yaml").write_text(
        "compute:\n  vendor: aws\n  region: us-east-1\ntype: authenticated\n"
    )
    for k in range(namespaces):
        folder = root / namespace(k)
        folder.mkdir()
        (folder / "_defaults.yaml").write_text(f"namespace: {namespace(k)}\n")
    for i in range(n):
        endpoint = name(i)
        grown = with_changes and changed(i)
        path = root / namespace(i % namespaces) / f"{endpoint}.yaml"
        path.write_text(spec_text(endpoint, max_replicas=2 if grown else 1))
    return root


def bodies(template: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """Create bodies for `names` from the template's body (the name replaced everywhere)."""
    text = json.dumps(template)
    assert TEMPLATE_NAME in text
    return [json.loads(text.replace(TEMPLATE_NAME, n)) for n in names]


def create_body(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The one create body in a request log (the template apply's)."""
    posts = [e for e in entries if e["method"] == "POST" and e["path"].startswith("/v2/endpoint/")]
    if len(posts) != 1 or not isinstance(posts[0].get("body"), dict):
        raise RuntimeError(f"expected one create in the template apply, saw {len(posts)}")
    body: dict[str, Any] = posts[0]["body"]
    return body
