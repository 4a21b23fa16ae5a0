"""The shipped JSON Schema, the spec dataclasses and the examples agree with each other."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from provisioner.spec import model, schema
from provisioner.spec.checks import build
from provisioner.spec.emit import dump_documents, effective
from provisioner.spec.loader import load_text
from provisioner.spec.stack import load_stack
from tests.support.cli import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "endpoints"
BIN = Path(sys.executable).parent


def _fields(cls: type) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)} - {"source"}


def _props(node: dict[str, Any]) -> dict[str, Any]:
    defs = schema.endpoint_schema()["$defs"]
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return dict(node["properties"])


@pytest.mark.parametrize(
    ("cls", "path"),
    [
        (model.EndpointSpec, ()),
        (model.ModelSpec, ("model",)),
        (model.ComputeSpec, ("compute",)),
        (model.ScalingSpec, ("scaling",)),
        (model.Image, ("model", "image")),
        (model.PrivateLink, ("private_link",)),
        (model.Route, ("route",)),
    ],
)
def test_every_dataclass_field_is_in_the_schema_and_back(cls: type, path: tuple[str, ...]) -> None:
    node: dict[str, Any] = schema.endpoint_schema()
    for part in path:
        node = _props(node)[part]
    assert _fields(cls) == set(_props(node))


def test_enums_match_the_schema() -> None:
    props = schema.endpoint_schema()["properties"]
    defs = schema.endpoint_schema()["$defs"]
    assert [e.value for e in model.EndpointType] == props["type"]["enum"]
    assert [e.value for e in model.DesiredState] == props["state"]["enum"]
    assert [e.value for e in model.Engine] == defs["model"]["properties"]["engine"]["enum"]
    metric = defs["scaling"]["properties"]["metric"]["enum"]
    assert [e.value for e in model.ScalingMetric] == metric


def test_engine_options_table_matches_the_schema() -> None:
    options = schema.endpoint_schema()["$defs"]["model"]["properties"]["engine_options"]
    union = set().union(*model.ENGINE_OPTIONS.values())
    assert union == set(options["properties"])
    for name, prop in options["properties"].items():
        engines = {e.value for e, keys in model.ENGINE_OPTIONS.items() if name in keys}
        assert set(prop["description"].split(", ")) == engines, name


def _enums(node: Any) -> set[str]:
    if isinstance(node, dict):
        return {str(v) for v in node.get("enum", ())} | {
            found for sub in node.values() for found in _enums(sub)
        }
    if isinstance(node, list):
        return {found for sub in node for found in _enums(sub)}
    return set()


def test_the_schema_takes_exactly_the_option_values_the_table_lists() -> None:
    """For every engine and string option: the schema accepts a value iff `option_values` lists
    it for that engine (or lists nothing), so editors and validate agree on every value."""
    validator = Draft202012Validator(schema.endpoint_schema())
    options = schema.endpoint_schema()["$defs"]["model"]["properties"]["engine_options"]
    listed_anywhere = {
        v
        for by_engine in model.ENGINE_OPTION_VALUES.values()
        for vs in by_engine.values()
        for v in vs
    }
    candidates = listed_anywhere | _enums(options) | {"nonsense", "CLS"}
    stringy = {
        name
        for name, prop in options["properties"].items()
        if prop.get("type") == "string" or "enum" in prop
    }
    assert set(model.ENGINE_OPTION_VALUES) <= stringy
    for engine, allowed in model.ENGINE_OPTIONS.items():
        for option in sorted(allowed & stringy):
            listed = model.option_values(engine, option)
            for candidate in sorted(candidates):
                spec = {
                    "name": "x",
                    "model": {
                        "repository": "gpt2",
                        "engine": engine.value,
                        "engine_options": {option: candidate},
                    },
                    "compute": {
                        "vendor": "aws",
                        "region": "us-east-1",
                        "accelerator": "cpu",
                        "instance_type": "intel-spr",
                        "instance_size": "x1",
                    },
                }
                expected = listed is None or candidate in listed
                assert validator.is_valid(spec) == expected, (engine, option, candidate)


def test_shipped_schemas_are_valid_draft_2020_12() -> None:
    for document in (schema.endpoint_schema(), schema.defaults_schema(), schema.settings_schema()):
        Draft202012Validator.check_schema(document)


def _without_conditions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_conditions(v) for k, v in node.items() if k != "if"}
    if isinstance(node, list):
        return [_without_conditions(v) for v in node]
    return node


def test_defaults_schema_requires_nothing_and_forbids_name() -> None:
    # `required` is left only in conditions ("if the engine is tei"), which require nothing.
    text = json.dumps(_without_conditions(schema.defaults_schema()))
    assert '"required"' not in text
    assert "name" not in schema.defaults_schema()["properties"]
    validator = Draft202012Validator(schema.defaults_schema())
    assert validator.is_valid({"scaling": {"min_replicas": 2}})
    assert not validator.is_valid({"name": "x"})
    # A defaults file naming no engine is not held to one engine's values, nor to all of them.
    assert validator.is_valid({"model": {"engine_options": {"pooling": "last"}}})
    tei = {"model": {"engine": "tei", "engine_options": {"pooling": "last"}}}
    assert not validator.is_valid(tei)


def test_effective_spec_round_trips_through_the_loader() -> None:
    stack, diagnostics = load_stack(EXAMPLES)
    assert not diagnostics.has_errors
    for spec in stack.specs:
        (document,), errors = load_text(dump_documents([effective(spec)]), Path("x.yaml"))
        assert errors == []
        assert build(document, default_namespace=None) == spec


def test_examples_declare_the_schema_for_editors() -> None:
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        if path.name.startswith("_"):
            continue
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target == ROOT / "provisioner" / "spec" / "endpoint.schema.json", path


@pytest.mark.slow  # runs check-jsonschema as a process
def test_third_party_validator_accepts_every_merged_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check-jsonschema` (not our code) checks `provisioner show` against `provisioner schema`."""
    shown = run(capsys, "show", "--dir", str(EXAMPLES))
    printed = run(capsys, "schema")
    assert shown.code == 0 and printed.code == 0
    schema_file = tmp_path / "endpoint.schema.json"
    schema_file.write_text(printed.out)
    documents = list(yaml.safe_load_all(shown.out))
    assert len(documents) == 5
    files = []
    for document in documents:
        target = tmp_path / f"{document['name']}.json"
        target.write_text(json.dumps(document))
        files.append(str(target))
    checked = subprocess.run(
        [str(BIN / "check-jsonschema"), "--schemafile", str(schema_file), *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # And it does reject a broken document, so the check above means something.
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**documents[0], "state": "runing"}))
    rejected = subprocess.run(
        [str(BIN / "check-jsonschema"), "--schemafile", str(schema_file), str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rejected.returncode == 1
