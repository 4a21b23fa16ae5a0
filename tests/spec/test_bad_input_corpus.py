"""A corpus of bad input, generated from the schema: every endpoint field gets values of the
wrong type and out of its bounds. Each must be a located error (`file:line:col: error:`), exit 1,
no traceback, and (for `apply`) no mutating call (issue: reliability, "tests")."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.spec.schema import endpoint_schema
from tests.support.cli import Result, run

BASE: dict[str, Any] = {
    "name": "svc",
    "model": {"repository": "gpt2"},
    "compute": {
        "vendor": "aws",
        "region": "us-east-1",
        "accelerator": "cpu",
        "instance_type": "intel-spr",
        "instance_size": "x2",
    },
}
LOCATED = re.compile(r"^\S+\.yaml:\d+:\d+: error: ", re.MULTILINE)


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    root = endpoint_schema()
    while "$ref" in node:
        node = root["$defs"][str(node["$ref"]).rsplit("/", 1)[-1]]
    return node


def _leaves(node: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[Any, ...]]:
    for key, sub in _resolve(node).get("properties", {}).items():
        sub = _resolve(sub)
        if "properties" in sub:
            yield from _leaves(sub, (*prefix, key))
        else:
            yield (*prefix, key), sub


def _bad_values(field: Mapping[str, Any]) -> list[Any]:
    """Values the schema must refuse for this field."""
    kind = field.get("type")
    values: list[Any] = [{"nested": ["value"]}]  # no leaf takes a mapping of lists
    if "enum" in field:
        values += ["not-one-of-them", 7]
    elif kind == "string":
        values += [12345, ["a", "list"]]
    elif kind == "integer":
        values += ["twelve", 1.5, float("nan"), float("inf"), 2**64]
        if "minimum" in field:
            values.append(field["minimum"] - 1)
    elif kind == "number":
        values += ["high", float("nan"), float("inf"), -1]
    elif kind == "boolean":
        values += ["perhaps", 3]
    elif kind == "array":
        values += ["not-a-list", [["nested"]]]
    elif kind == "object":
        values += ["not-a-mapping", [1, 2]]
    return values


def _cases() -> Iterator[Any]:
    for path, field in _leaves(endpoint_schema()):
        for index, value in enumerate(_bad_values(field)):
            yield pytest.param(path, value, id=f"{'.'.join(path)}-{index}")


CASES = list(_cases())


def _spec_with(path: tuple[str, ...], value: Any) -> str:
    document: dict[str, Any] = yaml.safe_load(yaml.safe_dump(BASE))
    target = document
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    return yaml.safe_dump(document, sort_keys=False)


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 100


@pytest.mark.parametrize(("path", "value"), CASES)
def test_bad_value_is_a_located_error(
    path: tuple[str, ...], value: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "endpoints"
    specs.mkdir()
    (specs / "svc.yaml").write_text(_spec_with(path, value))
    result: Result = run(capsys, "validate", "--dir", str(specs))
    assert result.code == 1, result.text
    assert LOCATED.search(result.err), result.err
