"""The planner with and without resolved revisions (pure: no emulator needed)."""

from __future__ import annotations

from pathlib import Path

from provisioner.hub.models import Commit, Fleet
from provisioner.plan.planner import PlanOptions, build_plan
from provisioner.render.text import render_plan
from provisioner.spec.stack import load_stack
from tests.reconcile.helpers import write_spec

SHA = "7bcac572ce56db69c1ea7c8b255c4fc5bbe8f2e0"


def _plan(tmp_path: Path, fleet: Fleet) -> str:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"revision": "main"})
    stack, diagnostics = load_stack(specs)
    assert not diagnostics.has_errors
    plan = build_plan(stack.resolved_specs("demo"), fleet, PlanOptions("s"))
    (change,) = plan.changes
    assert change.desired is not None
    return f"{change.desired.revision} {change.revision_from}\n{render_plan(plan)}"


def test_a_resolved_revision_is_deployed_as_its_commit(tmp_path: Path) -> None:
    text = _plan(tmp_path, Fleet(commits={("gpt2", "main"): Commit(sha=SHA)}))
    assert text.startswith(f"{SHA} main\n")
    assert "gpt2@main -> 7bcac57 on" in text


def test_without_resolutions_the_declared_name_is_sent_as_it_is(tmp_path: Path) -> None:
    text = _plan(tmp_path, Fleet())
    assert text.startswith("main None\n")
    assert "gpt2@main on" in text
