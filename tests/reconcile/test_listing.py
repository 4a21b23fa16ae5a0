"""Reading the live list as the service pages it and as it may break: every endpoint past the
first page is seen by plan, apply's waiter, status and import; one listed item that cannot be
read is named and never planned as absent, and the others go on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, unmanaged, write_spec
from tests.support.cli import Result, run

Cli = Callable[..., Result]
NAMES = [f"ep-{i}" for i in range(7)]


def _stack(root: Path, names: list[str]) -> Path:
    specs = root / "endpoints"
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "_settings.yaml").write_text("stack: listing\nnamespace: acme\n")
    for name in names:
        write_spec(specs, name)
    return specs


def test_endpoints_past_the_first_page_are_seen_by_apply_plan_status_and_import(
    make_emulator: Callable[..., Emulator],
    hub_for: Callable[..., HfApi],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    emu = make_emulator(list_page_size=2)
    context = context_for(emu)
    specs = _stack(tmp_path, NAMES)
    # The waiter lists to see each endpoint running: one past page 1 would look gone forever.
    applied = run(capsys, "apply", "--dir", str(specs), "--auto-approve", context=context)
    assert applied.code == 0, applied.text
    assert "Apply complete: 7 created." in applied.out
    lists = [r for r in emu.requests() if (r["method"], r["path"]) == ("GET", "/v2/endpoint/acme")]
    assert any(r["query"].startswith("cursor=") for r in lists)
    emu.clear_requests()
    plan = run(capsys, "plan", "--dir", str(specs), "--detailed-exitcode", context=context)
    assert plan.code == 0, plan.text  # no create for any of the 7
    assert mutations(emu) == []
    status = run(capsys, "status", "--dir", str(specs), context=context)
    assert status.code == 0, status.text
    assert all(name in status.out for name in NAMES)
    unmanaged(hub_for(emu, "hf_demo"), "zz-by-hand")  # sorts last: on page 4
    imported = run(capsys, "import", "zz-by-hand", "--dir", str(specs), context=context)
    assert imported.code == 0, imported.text
    assert (specs / "zz-by-hand.yaml").exists()


def test_a_listed_endpoint_that_cannot_be_read_is_never_created_and_blocks_its_spec(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path, ["broken", "good"])
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    emulator.add_fault(
        {"kind": "corrupt_listing", "namespace": "acme", "name": "broken", "remove": ["status"]}
    )
    emulator.clear_requests()
    plan = cli("plan", "--dir", str(specs))
    assert plan.code == 1, plan.text
    assert (
        f"{specs}/broken.yaml:1:7: error: acme/broken is listed by the API but cannot be read "
        "(status is missing); provisioner plans nothing for it until the API returns it whole"
    ) in plan.err
    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 1
    assert "acme/broken is listed by the API but cannot be read" in applied.err
    assert mutations(emulator) == []


def test_an_unreadable_endpoint_without_spec_is_kept_with_a_warning_and_the_rest_go_on(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path, ["broken", "good"])
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    (specs / "broken.yaml").unlink()  # its spec is gone: a readable one would be deleted
    write_spec(specs, "good", scaling={"max_replicas": 2})
    emulator.add_fault(
        {"kind": "corrupt_listing", "namespace": "acme", "name": "broken", "set": {"model": 1}}
    )
    emulator.clear_requests()
    saved = tmp_path / "plan.json"
    plan = cli("plan", "--dir", str(specs), "--out", str(saved))
    assert plan.code == 0, plan.text
    assert (
        "warning: acme/broken (this stack's) is listed by the API but cannot be read (model is "
        "a number, not an object); it is left out of this plan"
    ) in plan.err
    assert "acme/good" in plan.out
    assert "acme/broken" not in plan.out
    applied = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert mutations(emulator) == [("PUT", "/v2/endpoint/acme/good")]
    emulator.clear_faults()
    assert live(emulator)["good"]["compute"]["scaling"]["maxReplica"] == 2
    assert "broken" in live(emulator)


def test_a_saved_plan_for_an_endpoint_that_became_unreadable_is_stale(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path, ["broken"])
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    (specs / "broken.yaml").unlink()
    saved = tmp_path / "plan.json"
    planned = cli("plan", "--dir", str(specs), "--out", str(saved), "--allow-mass-delete")
    assert planned.code == 0, planned.text  # a delete (of all the stack has: said so)
    emulator.add_fault(
        {"kind": "corrupt_listing", "namespace": "acme", "name": "broken", "remove": ["model"]}
    )
    emulator.clear_requests()
    applied = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert applied.code == 1
    assert "acme/broken is listed but cannot be read now (model is missing)" in applied.err
    assert mutations(emulator) == []


def test_the_waiter_does_not_take_an_unreadable_endpoint_for_gone_or_running(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path, ["fresh"])
    emulator.add_fault(
        {"kind": "corrupt_listing", "namespace": "acme", "name": "fresh", "remove": ["status"]}
    )
    applied = cli("apply", "--dir", str(specs), "--auto-approve", "--timeout", "30")
    assert ("POST", "/v2/endpoint/acme") in mutations(emulator)
    assert applied.code == 1, applied.text
    assert (
        "acme/fresh: did not become running within 30s (last state: unreadable (status is missing))"
    ) in applied.err


def test_destroy_goes_on_around_an_unreadable_endpoint_and_says_so(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path, ["broken", "good"])
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    emulator.add_fault(
        {"kind": "corrupt_listing", "namespace": "acme", "name": "broken", "remove": ["status"]}
    )
    emulator.clear_requests()
    destroyed = cli("destroy", "--dir", str(specs), "--auto-approve")
    assert destroyed.code == 0, destroyed.text
    assert f"{specs}/broken.yaml:1:7: warning: acme/broken is listed by the API" in destroyed.err
    assert mutations(emulator) == [("DELETE", "/v2/endpoint/acme/good")]
