"""Planner golden cases: `tests/cases/plan/<case>/` holds `endpoints/` (specs) and `live.json`
(the raw API JSON per namespace, as `GET /v2/endpoint/{ns}` and `/v2/provider/{ns}` return it),
and the expected `plan.json` and `plan.txt`.

Regenerate with `UPDATE_GOLDENS=1 make unit` and review the diff like any other change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from huggingface_hub import InferenceEndpointHardware

from provisioner.hub.client import hardware_from_client
from provisioner.hub.models import Fleet
from provisioner.hub.normalise import endpoint_from_raw
from provisioner.plan.document import dumps, loads
from provisioner.plan.planner import PlanOptions, build_plan
from provisioner.render.text import render_plan
from provisioner.spec.stack import load_stack

ROOT = Path(__file__).resolve().parent.parent / "cases" / "plan"
CASES = sorted(p for p in ROOT.iterdir() if p.is_dir())
TOKEN_USER = "demo"


def fleet_from(path: Path) -> Fleet:
    data = json.loads(path.read_text())
    endpoints, hardware = {}, {}
    for namespace, content in data["namespaces"].items():
        endpoints[namespace] = tuple(
            endpoint_from_raw(raw, namespace) for raw in content["endpoints"]["items"]
        )
        provider = content.get("provider") or json.loads((ROOT / "provider.json").read_text())
        hardware[namespace] = tuple(
            hardware_from_client(
                InferenceEndpointHardware.from_raw(
                    compute, vendor=vendor["name"], region=region["name"]
                )
            )
            for vendor in provider["vendors"]
            for region in vendor["regions"]
            for compute in region["computes"]
        )
    return Fleet(endpoints=endpoints, hardware=hardware)


def plan_case(case: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(case)
    stack, diagnostics = load_stack(Path("endpoints"))
    assert not diagnostics.has_errors, [str(d) for d in diagnostics]
    specs = stack.resolved_specs(TOKEN_USER)
    options = (
        json.loads((case / "options.json").read_text()) if (case / "options.json").exists() else {}
    )
    return build_plan(
        specs, fleet_from(case / "live.json"), PlanOptions(stack.settings.stack, **options)
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan_case(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_case(case, monkeypatch)
    as_json, as_text = dumps(plan), render_plan(plan)
    if os.environ.get("UPDATE_GOLDENS"):
        (case / "plan.json").write_text(as_json)
        (case / "plan.txt").write_text(as_text)
    assert as_json == (case / "plan.json").read_text()
    assert as_text == (case / "plan.txt").read_text()
    # The saved form reads back to the same plan.
    assert loads(as_json) == plan
