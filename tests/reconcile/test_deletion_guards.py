"""Deletion is the dangerous action: a spec that cannot be read, or a spec directory that lost its
specs, must never delete endpoints (issue: reliability, "wrong deletions")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.helpers import apply_ok, live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def _stack(specs: Path, *names: str) -> None:
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\n")
    for name in names:
        write_spec(specs, name)


def test_a_dangling_symlink_spec_stops_apply_before_any_call(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _stack(specs, "a", "b", "c")
    apply_ok(cli, specs)
    (specs / "c.yaml").unlink()
    (specs / "c.yaml").symlink_to(tmp_path / "elsewhere" / "c.yaml")
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "c.yaml:1:1: error: dangling symbolic link" in result.err
    assert mutations(emulator) == []
    assert sorted(live(emulator)) == ["a", "b", "c"]


def test_a_spec_directory_that_lost_its_specs_deletes_nothing_without_the_flag(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _stack(specs, "a", "b", "c")
    apply_ok(cli, specs)
    for name in ("a", "b", "c"):
        (specs / f"{name}.yaml").unlink()  # say, a checkout gone wrong
    emulator.clear_requests()
    refused = cli("apply", "--dir", str(specs), "--auto-approve")
    assert refused.code == 1
    assert "this plan deletes 3 of the 3 endpoints stack 'team' manages (all:" in refused.err
    assert "--allow-mass-delete" in refused.err
    assert mutations(emulator) == []
    plan = cli("plan", "--dir", str(specs), "--allow-mass-delete")
    assert plan.code == 0 and "0 to create, 0 to update, 0 to replace, 3 to delete" in plan.out
    deleted = cli("apply", "--dir", str(specs), "--auto-approve", "--allow-mass-delete")
    assert deleted.code == 0, deleted.text
    assert [m for m, _ in mutations(emulator)] == ["DELETE"] * 3


def test_removing_a_minority_of_specs_needs_no_flag_and_the_share_is_configurable(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _stack(specs, "a", "b", "c")
    apply_ok(cli, specs)
    (specs / "c.yaml").unlink()
    assert cli("plan", "--dir", str(specs)).code == 0  # 1 of 3 is under the default 50 %
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\nmax_delete_percent: 20\n")
    refused = cli("plan", "--dir", str(specs))
    assert refused.code == 1
    assert "_settings.yaml:1:1: error: this plan deletes 1 of the 3 endpoints" in refused.err
    assert "more than 20%" in refused.err
    # `apply PLAN` never takes the flag: it is a planning decision, reviewed with the plan.
    applied = cli("apply", "plan.json", "--dir", str(specs), "--allow-mass-delete")
    assert applied.code == 1 and "pass it to `plan --out` instead" in applied.err
