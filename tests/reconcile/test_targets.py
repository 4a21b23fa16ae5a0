"""`--target NAME` on plan and apply: only the endpoints named are planned and changed (issue: CLI,
"as Terraform's -target")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.helpers import apply_ok, live, mutations, team_stack, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_a_target_plans_and_applies_only_the_endpoints_it_names(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "chat-a", "chat-b", "embed")
    apply_ok(cli, specs)
    for name in ("chat-a", "chat-b", "embed"):
        write_spec(specs, name, tags=["edited"])
    write_spec(specs, "chat-new")

    plan = cli("plan", "--dir", str(specs), "--target", "chat-*")
    assert plan.code == 0, plan.text
    assert "acme/chat-a: update" in plan.out and "acme/chat-b: update" in plan.out
    assert "acme/chat-new: create" in plan.out
    assert "embed" not in plan.out
    assert "Only --target chat-*" in plan.out
    assert "this plan covers only 3 of 4 endpoints (--target); the others are not compared" in (
        plan.err
    )

    emulator.clear_requests()
    applied = cli("apply", "--dir", str(specs), "--auto-approve", "--target", "acme/chat-a")
    assert applied.code == 0, applied.text
    assert [m for m, _ in mutations(emulator)] == ["PUT"]
    assert "edited" in live(emulator)["chat-a"]["tags"]
    assert "edited" not in live(emulator)["embed"]["tags"]
    assert "chat-new" not in live(emulator)


def test_a_target_can_delete_an_orphan_and_the_guard_counts_the_wholeteam_stack(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a", "b", "c")
    apply_ok(cli, specs)
    for name in ("a", "b", "c"):
        (specs / f"{name}.yaml").unlink()
    # One targeted deletion is 1 of the stack's 3 endpoints, not "all" of the one targeted.
    one = cli("apply", "--dir", str(specs), "--auto-approve", "--target", "c")
    assert one.code == 0, one.text
    assert "acme/c: delete" in one.out
    assert sorted(live(emulator)) == ["a", "b"]
    emulator.clear_requests()
    everything = cli("apply", "--dir", str(specs), "--auto-approve", "--target", "*")
    assert everything.code == 1
    assert "this plan deletes 2 of the 2 endpoints stack 'team' manages (all:" in everything.err
    assert mutations(emulator) == []


def test_a_target_that_matches_nothing_is_an_error_naming_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a", "b")
    apply_ok(cli, specs)
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--target", "a", "--target", "zz*")
    assert result.code == 1
    assert "error: --target 'zz*' matches no endpoint of stack 'team' (its endpoints: a, b)" in (
        result.err
    )
    assert mutations(emulator) == []


def test_a_saved_targeted_plan_changes_only_its_targets(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a", "b")
    apply_ok(cli, specs)
    write_spec(specs, "a", tags=["edited"])
    write_spec(specs, "b", tags=["edited"])
    out = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--target", "b", "--out", str(out)).code == 0
    emulator.clear_requests()
    applied = cli("apply", str(out), "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert "Only --target b" in applied.out
    assert [m for m, _ in mutations(emulator)] == ["PUT"]
    assert "edited" in live(emulator)["b"]["tags"] and "edited" not in live(emulator)["a"]["tags"]
    again = cli("apply", str(out), "--dir", str(specs), "--target", "a")
    assert again.code == 1 and "--target is a planning option" in again.err
