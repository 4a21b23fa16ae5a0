"""Deletion is the dangerous action: a spec that cannot be read, or a spec directory that lost its
specs, must never delete endpoints (issue: reliability, "wrong deletions")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from provisioner.plan.document import _checksum
from tests.reconcile.helpers import apply_ok, live, mutations, team_stack, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_a_dangling_symlink_spec_stops_apply_before_any_call(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a", "b", "c")
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
    team_stack(specs, "a", "b", "c")
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


@pytest.mark.parametrize(
    ("names", "listed"),
    [
        ("abcde", "acme/a, acme/b, acme/c, acme/d, acme/e"),
        ("abcdefg", "acme/a, acme/b, acme/c, acme/d, acme/e and 2 more"),
    ],
)
def test_the_mass_deletion_refusal_names_what_it_would_delete_and_the_way_forward(
    names: str, listed: str, tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """At most five names, then how many more; then what to do if it is intended."""
    specs = tmp_path / "endpoints"
    team_stack(specs, *names)
    apply_ok(cli, specs)
    for name in names:
        (specs / f"{name}.yaml").unlink()
    refused = cli("plan", "--dir", str(specs))
    assert refused.code == 1
    assert (
        f"this plan deletes {len(names)} of the {len(names)} endpoints stack 'team' manages "
        f"(all: {listed}); a spec directory with specs missing, unreadable or moved looks like "
        "removed specs. If these deletions are intended, run again with --allow-mass-delete "
        "(the limit is max_delete_percent in _settings.yaml; `provisioner destroy --dir "
        f"{specs} --api-url {emulator.url}` deletes a whole stack)"
    ) in " ".join(refused.err.split())


def test_removing_a_minority_of_specs_needs_no_flag_and_the_share_is_configurable(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a", "b", "c")
    apply_ok(cli, specs)
    (specs / "c.yaml").unlink()
    assert cli("plan", "--dir", str(specs)).code == 0  # 1 of 3 is under the default 50 %
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\nmax_delete_percent: 20\n")
    refused = cli("plan", "--dir", str(specs))
    assert refused.code == 1
    assert "_settings.yaml:1:1: error: this plan deletes 1 of the 3 endpoints" in refused.err
    assert "more than 20%" in refused.err
    # A saved plan made with the flag is planned again at apply: the file cannot grant the
    # flag, so whoever applies gives it again.
    saved = specs.parent / "plan.json"
    made = cli("plan", "--dir", str(specs), "--allow-mass-delete", "--out", str(saved))
    assert made.code == 0, made.text
    refused = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert refused.code == 1 and "more than 20%" in refused.err
    assert "c" in live(emulator)
    applied = cli("apply", str(saved), "--dir", str(specs), "--allow-mass-delete")
    assert applied.code == 0, applied.text
    assert set(live(emulator)) == {"a", "b"}


def _rewrite(path: Path, edit: Callable[[dict[str, Any]], None], *, checksum: bool) -> None:
    document = json.loads(path.read_text())
    edit(document)
    if checksum:  # as someone who knows how the checksum is made would
        document["checksum"] = _checksum(document)
    path.write_text(json.dumps(document))


def _delete(name: str) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        for change in document["changes"]:
            if change["name"] == name:
                change.update(action="delete", steps=["delete"], desired=None, sends=[])

    return edit


def test_an_edited_saved_plan_is_refused(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a", "b")
    apply_ok(cli, specs)
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    _rewrite(saved, _delete("a"), checksum=False)
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "the plan was changed after it was made" in result.err
    assert mutations(emulator) == []


def test_a_crafted_saved_plan_cannot_delete_what_its_stack_does_not_own(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "byhand")
    specs = tmp_path / "endpoints"
    team_stack(specs, "a")
    write_spec(specs, "byhand", adopt=True)
    write_spec(specs, "guarded", protect=True)
    apply_ok(cli, specs)
    write_spec(specs, "byhand", adopt=True, model={"env": {"X": "1"}})
    (tmp_path / "theirs").mkdir()
    other = tmp_path / "theirs" / "endpoints"
    other.mkdir()
    (other / "_settings.yaml").write_text("stack: other\nnamespace: acme\n")
    write_spec(other, "theirs")
    apply_ok(cli, other)
    unmanaged(hub_for(emulator), "loose")
    write_spec(specs, "loose", adopt=True)
    write_spec(specs, "aa-new")  # a create, checked first: the ones after it are checked too
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0

    def edit(document: dict[str, Any]) -> None:
        for name in ("loose", "guarded"):
            _delete(name)(document)
        (a,) = [c for c in document["changes"] if c["name"] == "a"]
        a.update(name="theirs", address="acme/theirs", action="delete", steps=["delete"])

    _rewrite(saved, edit, checksum=True)
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "acme/loose is not managed by provisioner: no plan may change it" in result.err
    assert "acme/guarded is protected: no plan may delete or replace it" in result.err
    assert "acme/theirs is managed by stack 'other': a plan for 'team' may not" in result.err
    assert mutations(emulator) == []
    assert {"a", "byhand", "guarded", "theirs", "loose"} <= set(live(emulator))


def test_a_namespace_that_cannot_be_listed_is_named_never_passed_over(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a")
    write_spec(specs, "b", namespace="demo")
    apply_ok(cli, specs)
    (specs / "b.yaml").unlink()  # its namespace now has no spec: only scanned for orphans
    emulator.add_fault(
        {"kind": "http", "method": "GET", "path": "/v2/endpoint/demo", "status": 403, "count": 9}
    )
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    warning = re.escape(
        f"{specs}/_settings.yaml:1:1: warning: namespace demo could not be listed ("
    )
    warning += r".+\): endpoints stack 'team' may manage there are not in this plan "
    warning += re.escape("(none is changed or deleted)")
    assert re.search(warning, " ".join(result.err.split())), result.err
    assert mutations(emulator) == []
    emulator.clear_faults()
    assert "b" in live(emulator, "demo")


def _replace(document: dict[str, Any], name: str) -> None:
    (change,) = [c for c in document["changes"] if c["name"] == name]
    change.update(action="replace", steps=["delete", "create"])


def _delete_keeping_desired(document: dict[str, Any], name: str) -> None:
    (change,) = [c for c in document["changes"] if c["name"] == name]
    change.update(action="delete", steps=["delete"])  # `desired` still carries our tags


@pytest.mark.parametrize("edit", [_replace, _delete_keeping_desired])
def test_a_crafted_saved_plan_cannot_turn_adopting_a_hand_made_endpoint_into_deleting_it(
    edit: Callable[[dict[str, Any], str], None],
    tmp_path: Path,
    cli: Cli,
    emulator: Emulator,
    hub_for: Callable[..., HfApi],
) -> None:
    """A plan may adopt an unmanaged endpoint only by updating it in place (the planner itself
    refuses to replace one it adopts): the same change as a replacement or a delete, even with
    this stack's tags in `desired` and a valid checksum, is refused before any call."""
    unmanaged(hub_for(emulator), "byhand")
    specs = tmp_path / "endpoints"
    team_stack(specs)
    write_spec(specs, "byhand", adopt=True)
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    _rewrite(saved, lambda document: edit(document, "byhand"), checksum=True)
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1, result.text
    assert "acme/byhand is not managed by provisioner: no plan may change it" in result.err
    assert mutations(emulator) == []
    assert "provisioner-stack-team" not in live(emulator)["byhand"]["tags"]
