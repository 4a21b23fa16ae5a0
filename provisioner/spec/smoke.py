"""A spec's `smoke:` test: its values, the key-path syntax of `expect.keys`, and its checks.

The schema checks the shape; this module checks what the schema cannot: that every key path
parses and that `expect.schema` is itself a valid JSON Schema (against its meta-schema), each
problem a `file:line:col` diagnostic. Running a smoke test is `provisioner.smoke`'s business;
this module reads no network and no clock.

A smoke test is not part of the endpoint: the applied digest leaves it out
(`plan.desired.applied_digest`), so adding or changing one never plans a change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.spec.diagnostics import Diagnostic, shown
from provisioner.spec.loader import Document, KeyPath

# Defaults live here, not in the JSON Schema: a schema default below `smoke` would make
# `with_defaults` give every spec a `smoke:` mapping.
DEFAULT_STATUS = 200
DEFAULT_TIMEOUT = 300.0

KeyStep = str | int
_INDEX = re.compile(r"\[(-?\d{1,9})\]")  # bounded: int() of thousands of digits raises
_NAME = re.compile(r"[^.\[\]\s]+")
PATH_SYNTAX = "names joined by '.', list indexes in brackets, e.g. [0].generated_text"


@dataclass(frozen=True, kw_only=True)
class SmokeExpect:
    status: int = DEFAULT_STATUS
    keys: tuple[str, ...] | None = None
    # A JSON Schema: a mapping, or true/false (`Any`: cattrs has no hook for that union).
    schema: Any = None


@dataclass(frozen=True, kw_only=True)
class SmokeSpec:
    """`request` is POSTed as JSON to the endpoint's URL; the answer must meet `expect`."""

    request: Mapping[str, Any]
    expect: SmokeExpect
    timeout: float = DEFAULT_TIMEOUT


def parse_path(text: str) -> tuple[KeyStep, ...]:
    """`[0].generated_text` -> (0, "generated_text"). ValueError says where it went wrong."""
    steps: list[KeyStep] = []
    at = 0
    while at < len(text):
        index = _INDEX.match(text, at)
        if index is not None:
            steps.append(int(index.group(1)))
            at = index.end()
            continue
        if text[at] == "[":
            raise ValueError(f"'[' at character {at + 1} must open an index such as [0]")
        if steps:
            if text[at] != ".":
                raise ValueError(f"expected '.' or '[' at character {at + 1}")
            at += 1
        name = _NAME.match(text, at)
        if name is None:
            raise ValueError(f"expected a key name or [index] at character {at + 1}")
        steps.append(name.group())
        at = name.end()
    if not steps:
        raise ValueError("the path is empty")
    return tuple(steps)


def _schema_problems(schema: Any) -> Iterator[tuple[KeyPath, str]]:
    """Where `schema` breaks its meta-schema (its `$schema`'s, else Draft 2020-12's)."""
    if isinstance(schema, bool):
        return
    # Here, not at the top: jsonschema's import is most of `validate`'s start-up, and only a
    # spec with `expect.schema` needs it (see `spec.compiled`).
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import SchemaError

    try:
        cls = validators.validator_for(schema, default=Draft202012Validator)
    except SchemaError as error:  # a `$schema` jsonschema does not know
        yield ("$schema",), error.message
        return
    meta = cls(cls.META_SCHEMA)
    for found in sorted(meta.iter_errors(schema), key=lambda e: [str(p) for p in e.path]):
        yield tuple(found.path), found.message


def smoke_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    """Key paths that do not parse, and an `expect.schema` that is not a JSON Schema."""
    smoke = data.get("smoke")
    expect = smoke.get("expect") if isinstance(smoke, dict) else None
    if not isinstance(expect, dict):
        return
    keys = expect.get("keys")
    for index, key in enumerate(keys if isinstance(keys, list) else []):
        if not isinstance(key, str) or not key:
            continue  # the schema reported it
        try:
            parse_path(key)
        except ValueError as error:
            yield Diagnostic(
                doc.mark(("smoke", "expect", "keys", index)),
                f"smoke.expect.keys[{index}]: {shown(key)} is not a key path ({error}): "
                f"{PATH_SYNTAX}",
            )
    if "schema" in expect:
        for path, message in _schema_problems(expect["schema"]):
            where = ("smoke", "expect", "schema", *path)
            inside = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
            yield Diagnostic(
                doc.mark(where),
                f"smoke.expect.schema{inside}: not a valid JSON Schema: {message}",
            )
