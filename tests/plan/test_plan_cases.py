"""Planner golden cases: each `tests/cases/plan/<case>/` holds `case.yaml` (the specs to plan, the
specs applied before, the changes made outside provisioner, plan options) and four outputs:
`live.json` (the raw `GET /v2/endpoint/{ns}` listing that `tests/support/capture.py` captured from
the emulator), and the expected `plan.json`, `plan.txt` and `plan.md` (the pull-request comment).
See tests/README.md.

Regenerate all four with `make goldens` (`pytest --update-goldens`) and review the diff.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from huggingface_hub import HfApi, InferenceEndpointHardware

from provisioner import __version__
from provisioner.emulator import Emulator
from provisioner.hub.client import hardware_from_client
from provisioner.hub.models import Fleet
from provisioner.hub.normalise import endpoint_from_raw
from provisioner.plan.document import dumps, loads, plan_from_json, plan_to_json
from provisioner.plan.estimate import with_costs
from provisioner.plan.model import Plan
from provisioner.plan.planner import PlanOptions, build_plan
from provisioner.render.markdown import render_markdown
from provisioner.render.text import render_plan
from provisioner.spec import cache as spec_cache
from provisioner.spec.cache import SpecCache
from provisioner.spec.stack import load_stack
from tests.support.capture import (
    CASE_NOW,
    ROOT,
    Case,
    capture,
    commits_from,
    dumps_json,
    emulator_config,
    load_case,
    provider_listing,
)
from tests.support.capture import write_specs as write_case_specs

CASES = sorted(p for p in ROOT.iterdir() if (p / "case.yaml").is_file())
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
    return Fleet(endpoints=endpoints, hardware=hardware, commits=commits_from(data))


def plan_case(
    case: Case, work: Path, monkeypatch: pytest.MonkeyPatch, *, cached: bool = False
) -> Plan:
    # The specs are written to `<work>/endpoints` and loaded from `<work>`, so every case's
    # plan names its files `endpoints/...`, wherever the case takes them from.
    if not (work / "endpoints").exists():  # a second plan of it reads the same files
        write_case_specs(case.specs, work / "endpoints")
    monkeypatch.chdir(work)
    root = Path("endpoints")
    stack, diagnostics = load_stack(root, cache=SpecCache.for_stack(root, {}) if cached else None)
    assert not diagnostics.has_errors, [str(d) for d in diagnostics]
    specs = stack.resolved_specs(TOKEN_USER)
    fleet = fleet_from(case.path / "live.json")
    # As `provisioner plan` does: each change's cost, from the live fleet and its prices.
    options = {**case.options, "now": _now(case.options.get("now", CASE_NOW))}
    plan = with_costs(build_plan(specs, fleet, PlanOptions(stack.settings.stack, **options)), fleet)
    # The goldens hold a fixed version, so that a release does not rewrite all of them; the
    # real one is asserted below (test_a_plan_records_the_version_that_made_it).
    assert plan.provisioner_version == __version__
    return replace(plan, provisioner_version=GOLDEN_VERSION)


def _now(value: object) -> datetime:
    """A case's `now` (YAML may have read it as a timestamp already), as an aware instant."""
    found = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


@pytest.fixture
def captured(
    make_emulator: Callable[..., Emulator],
    hub_for: Callable[..., HfApi],
    tmp_path: Path,
) -> Callable[[Case], str]:
    """`captured(case)`: the case's `live.json`, as the capture builds it today."""

    def run(case: Case) -> str:
        emu = make_emulator(emulator_config())
        return dumps_json(capture(case, emu, hub_for(emu), tmp_path / "capture"))

    return run


@pytest.mark.parametrize("path", CASES, ids=[c.name for c in CASES])
def test_plan_case(
    path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    update_goldens: bool,
    captured: Callable[[Case], str],
) -> None:
    case = load_case(path)
    if update_goldens:
        (path / "live.json").write_text(captured(case))
    plan = plan_case(case, tmp_path / "plan", monkeypatch)
    as_json, as_text, as_markdown = dumps(plan), render_plan(plan), render_markdown(plan)
    if update_goldens:
        (path / "plan.json").write_text(as_json)
        (path / "plan.txt").write_text(as_text)
        (path / "plan.md").write_text(as_markdown)
    assert as_json == (path / "plan.json").read_text()
    assert as_text == (path / "plan.txt").read_text()
    assert as_markdown == (path / "plan.md").read_text()
    # The saved form reads back to the same plan.
    assert loads(as_json) == plan
    # Through the spec cache, written (cold) then read (warm): the same bytes.
    for _ in ("cold", "warm"):
        again = plan_case(case, tmp_path / "cached", monkeypatch, cached=True)
        assert (dumps(again), render_plan(again), render_markdown(again)) == (
            as_json,
            as_text,
            as_markdown,
        )
    assert spec_cache.location(Path("endpoints"), {}).is_file()


@pytest.mark.parametrize("path", CASES, ids=[c.name for c in CASES])
def test_live_json_is_what_the_case_describes(path: Path, captured: Callable[[Case], str]) -> None:
    """`live.json` is an output: doing what `case.yaml` says against the emulator, today, gives
    the same bytes (else the emulator or apply changed: regenerate and review the plans)."""
    assert captured(load_case(path)) == (path / "live.json").read_text(), (
        f"{path.name}/live.json is stale: run `make goldens` and review the diff"
    )


def test_provider_json_is_the_emulators_hardware_listing(
    make_emulator: Callable[..., Emulator], update_goldens: bool
) -> None:
    """`provider.json` (the hardware every case plans against) is also an output."""
    listing = dumps_json(provider_listing(make_emulator(emulator_config())))
    if update_goldens:
        (ROOT / "provider.json").write_text(listing)
    assert listing == (ROOT / "provider.json").read_text(), "run `make goldens`"


GOLDEN_VERSION = "0.0.0+golden"


def test_a_plan_records_the_version_that_made_it_and_a_saved_plan_keeps_its_own() -> None:
    assert json.loads(dumps(Plan(stack="s")))["provisioner_version"] == __version__
    # show-plan of a plan made by another version shows (and re-saves) that version.
    older = loads(dumps(Plan(stack="s", provisioner_version="0.1.9")))
    assert older.provisioner_version == "0.1.9"
    assert json.loads(dumps(older))["provisioner_version"] == "0.1.9"
    # A plan saved before 1.6 did not record it.
    document = plan_to_json(Plan(stack="s"))
    del document["provisioner_version"]
    document["format_version"] = "1.5"
    assert plan_from_json(document).provisioner_version is None
