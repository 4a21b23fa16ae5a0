"""An endpoint's answer against a smoke test's expectation: status, key paths, JSON Schema.

Pure: no I/O, no clock. Each problem is one sentence a person can act on; a message quoting
the answer is cut short (the caller blanks secrets before anything is shown).
"""

from __future__ import annotations

import json
from typing import Any

from provisioner.spec.diagnostics import clip
from provisioner.spec.smoke import KeyStep, SmokeExpect, parse_path

MAX_SCHEMA_PROBLEMS = 3
MESSAGE_LIMIT = 200


def _where(steps: tuple[KeyStep, ...]) -> str:
    text = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)
    return text.removeprefix(".") or "the top level"


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "an object"
    if isinstance(node, list):
        return f"a list of {len(node)}"
    return "a " + {str: "string", bool: "boolean", type(None): "null"}.get(type(node), "number")


def missing(document: Any, path: str) -> str | None:
    """None when `path` exists in `document`; else where the walk stopped, and why."""
    node = document
    steps = parse_path(path)
    for at, step in enumerate(steps):
        if isinstance(step, int):
            found = isinstance(node, list) and -len(node) <= step < len(node)
        else:
            found = isinstance(node, dict) and step in node
        if not found:
            want = f"index {step}" if isinstance(step, int) else f"key {step!r}"
            return f"no {want} at {_where(steps[:at])} ({_kind(node)})"
        node = node[step]
    return None


def _schema_problems(schema: Any, document: Any) -> list[str]:
    # Here, not at the top: `plan` and `apply` import this module (through the apply results),
    # and jsonschema's import is ~0.1 s of their start-up; only a smoke test with
    # `expect.schema` needs it, after an apply.
    from jsonschema import Draft202012Validator, validators

    cls = validators.validator_for(schema, default=Draft202012Validator)
    errors = sorted(cls(schema).iter_errors(document), key=lambda e: [str(p) for p in e.path])
    found = [
        f"does not match expect.schema at {_where(tuple(e.path))}: {clip(e.message, MESSAGE_LIMIT)}"
        for e in errors[:MAX_SCHEMA_PROBLEMS]
    ]
    if len(errors) > MAX_SCHEMA_PROBLEMS:
        found.append(f"... and {len(errors) - MAX_SCHEMA_PROBLEMS} more schema problems")
    return found


def check(expect: SmokeExpect, status: int, text: str) -> list[str]:
    """Every way the answer (`status`, body `text`) misses `expect`; empty when it passes. The
    body is checked only when the status is the expected one."""
    if status != expect.status:
        return [f"status {status}, expected {expect.status}"]
    if expect.keys is None and expect.schema is None:
        return []
    try:
        document = json.loads(text)
    except ValueError:
        return ["the answer is not JSON"]
    problems = []
    for path in expect.keys or ():
        where = missing(document, path)
        if where is not None:
            problems.append(f"key {path} is missing: {where}")
    if expect.schema is not None:
        problems.extend(_schema_problems(expect.schema, document))
    return problems
