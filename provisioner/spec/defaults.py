"""The spec's defaults, read from the JSON Schema (the one place they are written).

`with_defaults` fills every absent key that has a schema default into a copy of a document, so
the rules and the builder see the same effective values and no module repeats a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from provisioner.spec.schema import endpoint_schema


class _Nested(dict[str, Any]):
    """Defaults below a key (as opposed to a default that is itself a mapping)."""


def _resolve(node: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        node = root["$defs"][str(node["$ref"]).rsplit("/", 1)[-1]]
    return node


def _collect(node: Mapping[str, Any], root: Mapping[str, Any]) -> _Nested:
    found = _Nested()
    for key, sub in node.get("properties", {}).items():
        sub = _resolve(sub, root)
        if "default" in sub:
            found[key] = sub["default"]
        elif "properties" in sub:
            nested = _collect(sub, root)
            if nested:
                found[key] = nested
    return found


@cache
def _tree() -> _Nested:
    schema = endpoint_schema()
    return _collect(schema, schema)


def _fill(data: Any, tree: _Nested) -> Any:
    if not isinstance(data, dict):
        return data  # malformed: the schema reports it
    filled = dict(data)
    for key, default in tree.items():
        if isinstance(default, _Nested):
            filled[key] = _fill(filled.get(key, {}), default)
        elif key not in filled:
            filled[key] = default
    return filled


def with_defaults(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a spec document with every schema default filled in where the key is absent."""
    filled: dict[str, Any] = _fill(dict(data), _tree())
    return filled


def default_of(path: str) -> Any:
    """The schema default at a dotted spec path (None when it has none)."""
    node: Any = _tree()
    for part in path.split("."):
        if not isinstance(node, _Nested) or part not in node:
            return None
        node = node[part]
    return None if isinstance(node, _Nested) else node
