"""The JSON plan's schema (`provisioner/plan/plan.schema.json`, shipped as package data) holds
every plan provisioner writes: each golden `plan.json` (saved form) and the `--json` form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from provisioner.plan.document import FORMAT_VERSION, loads, plan_schema
from provisioner.plan.model import Action, ReasonCode
from provisioner.plan.review import WarningCode
from provisioner.render.json_plan import render_json
from tests.plan.test_plan_cases import CASES


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = plan_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator: jsonschema.Draft202012Validator, document: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.mark.parametrize("path", CASES, ids=[c.name for c in CASES])
def test_golden_plans_validate(path: Path, validator: jsonschema.Draft202012Validator) -> None:
    saved = (path / "plan.json").read_text()
    assert _errors(validator, json.loads(saved)) == []
    assert _errors(validator, json.loads(render_json(loads(saved)))) == []


def test_the_schema_names_every_code(validator: jsonschema.Draft202012Validator) -> None:
    defs = validator.schema["$defs"]
    assert defs["action"]["enum"] == [a.value for a in Action]
    assert defs["reason"]["properties"]["code"]["enum"] == [r.value for r in ReasonCode]
    assert defs["warning"]["properties"]["code"]["enum"] == [w.value for w in WarningCode]
    assert validator.schema["properties"]["format_version"]["pattern"] == "^1\\.[0-9]+$"
    assert FORMAT_VERSION.startswith("1.")


def test_the_schema_refuses_a_change_without_actions(
    validator: jsonschema.Draft202012Validator,
) -> None:
    document = json.loads((CASES[0] / "plan.json").read_text())
    del document["changes"][0]["actions"]
    assert any("'actions' is a required property" in e for e in _errors(validator, document))
