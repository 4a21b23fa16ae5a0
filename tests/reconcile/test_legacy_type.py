"""The legacy `type: "protected"`: the service's name for today's `authenticated` (token-gated,
public URL) before the rename, which it may still answer for old endpoints (reference section 2:
the 2023 fixtures and a 2025-03 capture say `protected`; huggingface_hub 2.4 refuses to send it,
"Use `type='authenticated'` instead"). A spec saying `type: authenticated` already describes
such an endpoint: no change is planned, nothing is sent, and the plan stays clean, where a
`protected -> authenticated` update would be sent on every apply and never read back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_an_endpoint_answered_as_protected_matches_a_spec_saying_authenticated(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = make_emulator(legacy_protected=True)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", type="authenticated")
    created = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert created.code == 0, created.text
    assert live(emulator)["svc"]["type"] == "protected"  # what the service answers
    emulator.advance(60)
    emulator.clear_requests()
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 0, plan.text
    assert "protected" not in plan.out and "~ type" not in plan.out
    applied = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert applied.code == 0, applied.text
    assert mutations(emulator) == []
    # A real change from it is planned in today's words, and reads back.
    write_spec(specs, "svc", namespace="acme", type="public")
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert '~ type: "authenticated" -> "public"' in plan.out, plan.out
    changed = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert changed.code == 0, changed.text
    assert live(emulator)["svc"]["type"] == "public"


def test_an_old_protected_endpoint_imports_as_authenticated_and_then_plans_clean(
    tmp_path: Path,
    cli: Cli,
    make_emulator: Callable[..., Emulator],
    hub_for: Callable[..., HfApi],
) -> None:
    emulator = make_emulator(legacy_protected=True)
    ctx = context_for(emulator)
    unmanaged(hub_for(emulator), "old", type="authenticated")
    assert live(emulator)["old"]["type"] == "protected"
    specs = tmp_path / "endpoints"
    specs.mkdir()
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\n")
    imported = cli("import", "old", "--dir", str(specs), ctx=ctx)
    assert imported.code == 0, imported.text
    assert "type: authenticated" in (specs / "old.yaml").read_text()
    assert "legacy type" not in imported.text  # nothing to explain: it is the same type
    emulator.advance(60)
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert "adds ownership tags" in plan.out and "type" not in plan.out, plan.out
    adopted = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert adopted.code == 0, adopted.text
    assert live(emulator)["old"]["type"] == "protected"
    emulator.advance(60)
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 0, plan.text
