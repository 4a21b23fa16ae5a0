"""The field table is complete: every `Config` attribute and every endpoint field of the spec
schema has a row, every row is in the schema, and every hand-written handler is registered
against a row. (What each row does end to end is `tests/reconcile/test_field_rows.py`.)"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from typing import Any

import pytest

from provisioner.hub import normalise
from provisioner.hub.models import Config
from provisioner.plan import desired, diff, imports
from provisioner.spec.defaults import default_of, with_defaults
from provisioner.spec.fields import BY_SPEC, FIELDS, Field, Flag, Mode, field_of
from provisioner.spec.schema import endpoint_schema

# Spec keys that say which endpoint and what to do with it, not how it is configured (`smoke`:
# a test run against it, never sent to the API; `outputs`: what `provisioner output` names its
# URL; `schedule`: decides `state` and the replica rows at plan time, `plan.schedule`).
NOT_CONFIGURATION = {
    "name",
    "namespace",
    "state",
    "adopt",
    "smoke",
    "outputs",
    "schedule",
    "ignore_changes",
}


def _schema_leaves(node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    root = endpoint_schema()
    for key, sub in node.get("properties", {}).items():
        while "$ref" in sub:
            sub = root["$defs"][sub["$ref"].rsplit("/", 1)[-1]]
        path = f"{prefix}{key}"
        if "properties" in sub and sub.get("additionalProperties") is False:
            yield from _schema_leaves(sub, path + ".")
        else:
            yield path


SCHEMA_LEAVES = sorted(_schema_leaves(endpoint_schema()))


def missing_rows(rows: Sequence[Field]) -> list[str]:
    """What a table without these rows would fail to cover."""
    config = {f.name for f in fields(Config)} - {row.attr for row in rows}
    leaves = [
        leaf
        for leaf in SCHEMA_LEAVES
        if leaf.split(".")[0] not in NOT_CONFIGURATION and not any(row.covers(leaf) for row in rows)
    ]
    return sorted(config) + leaves


def test_every_config_attribute_and_schema_field_has_a_row() -> None:
    assert missing_rows(FIELDS) == []


@pytest.mark.parametrize("index", range(len(FIELDS)), ids=[f.spec for f in FIELDS])
def test_removing_any_row_is_caught(index: int) -> None:
    assert missing_rows(FIELDS[:index] + FIELDS[index + 1 :]) != []


def test_every_row_is_a_schema_field_and_a_config_attribute() -> None:
    config = {f.name for f in fields(Config)}
    for row in FIELDS:
        assert row.attr in config, row
        for path in row.spec_paths:
            assert any(leaf == path or leaf.startswith(path + ".") for leaf in SCHEMA_LEAVES), path


def test_rows_are_unique_and_replacement_fields_are_known() -> None:
    assert len(BY_SPEC) == len(FIELDS)
    assert {r.spec for r in FIELDS if r.mode is Mode.REPLACE} == {
        "compute.vendor",
        "compute.region",
        "private_link",
    }
    assert {r.spec for r in FIELDS if Flag.HARDWARE in r.flags} == {
        "compute.vendor",
        "compute.region",
        "compute.accelerator",
        "compute.instance_type",
        "compute.instance_size",
    }
    # Pausing zeroes these: never compared while paused, never sent to resume by accident.
    assert {r.spec for r in FIELDS if Flag.REPLICAS in r.flags} == {
        "scaling.min_replicas",
        "scaling.max_replicas",
        "scaling.scale_to_zero_timeout",
    }


@pytest.mark.parametrize(
    "handlers",
    [
        normalise._READ,
        normalise._WRITE,
        normalise._CREATE,
        desired._CREATE,
        desired._UPDATE,
        diff._SPECIAL,
        imports._IMPORT,
    ],
    ids=["wire-read", "update-body", "create-args", "create", "update", "diff", "import"],
)
def test_every_handler_is_registered_against_a_row(handlers: Mapping[str, object]) -> None:
    assert set(handlers) <= set(BY_SPEC)


def test_change_paths_map_to_their_rows() -> None:
    assert field_of("model.env.DEBUG") is BY_SPEC["model.env"]
    assert field_of("model.engine_options.quantize") is BY_SPEC["model.image"]
    assert field_of("model.engine") is BY_SPEC["model.image"]
    assert field_of("model.image.url") is BY_SPEC["model.image"]
    assert field_of("model.secrets.API_KEY") is BY_SPEC["model.secrets"]
    assert field_of("model.repository") is BY_SPEC["model.repository"]
    assert field_of("compute.region") is BY_SPEC["compute.region"]
    assert field_of("route.path") is BY_SPEC["route.path"]
    assert field_of("nothing.here") is None


def test_defaults_come_from_the_schema_only() -> None:
    assert default_of("scaling.min_replicas") == 1
    assert default_of("model.framework") == "pytorch"
    assert default_of("model.revision") is None
    filled = with_defaults({"name": "x", "scaling": {"min_replicas": 0}})
    assert filled["scaling"] == {"min_replicas": 0, "max_replicas": 1}
    assert filled["model"] == {"framework": "pytorch", "engine": "default"}
    assert (filled["type"], filled["state"], filled["protect"]) == (
        "authenticated",
        "running",
        False,
    )


def _ordered_like_schema(data: Any, node: Mapping[str, Any]) -> None:
    root = endpoint_schema()
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    order = list(node.get("properties", {}))
    if not isinstance(data, dict) or not order:
        return
    keys = list(data)
    assert keys == [k for k in order if k in data], keys
    for key, value in data.items():
        if key != "engine_options":  # keyed by the user, like env: printed sorted
            _ordered_like_schema(value, node["properties"][key])


def test_shown_specs_keep_the_schema_order_a_person_reads() -> None:
    from pathlib import Path

    from provisioner.spec.emit import effective
    from provisioner.spec.stack import load_stack

    stack, _ = load_stack(Path(__file__).resolve().parents[2] / "endpoints")
    assert stack.specs
    for spec in stack.specs:
        _ordered_like_schema(effective(spec), endpoint_schema())
