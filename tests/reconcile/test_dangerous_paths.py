"""The planner's dangerous paths, end to end (issue 25): each test here was written against a
one-place edit of the planner or of `hub/normalise` that every other test let through (the
table in tests/README.md, "Mutation testing"). Adopting never deletes; a replacement checks
the new hardware before deleting the old endpoint; a paused endpoint stays paused through a
replacement; what a schedule moves is never drift and holds no quota while paused; secrets are
sent only to endpoints that have some, and removing the last one is sent; a hand-changed
pinned revision is a change made outside provisioner, not a moved branch."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import apply_ok, hub_commit, live, mutations, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]

# Europe/Madrid (CET, UTC+1), Friday 26 March 2027: inside 08:00-20:00, then just after it.
FRIDAY_MORNING = "2027-03-26T09:00:00+01:00"
FRIDAY_NIGHT = "2027-03-26T19:00:00Z"
WINDOW = {"days": "mon-fri", "hours": "08:00-20:00", "min_replicas": 1}
WORKING_HOURS = {"timezone": "Europe/Madrid", "windows": [WINDOW]}


def test_adopting_a_hand_made_endpoint_that_must_be_replaced_deletes_nothing(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "hand-made")
    specs = tmp_path / "endpoints"
    path = write_spec(
        specs, "hand-made", namespace="acme", adopt=True, compute={"region": "eu-west-1"}
    )
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1, result.text
    assert (
        f"{path}:1:7: error: acme/hand-made is not managed by provisioner yet and must be "
        "replaced (compute.region us-east-1 -> eu-west-1 cannot change in place): adopting it "
        "would delete it; delete it yourself (`hf endpoints delete`) and apply again to create "
        "it, or drop `adopt: true`\n"
    ) in result.err
    assert mutations(emulator) == []
    assert live(emulator)["hand-made"]["provider"]["region"] == "us-east-1"


def test_adopting_a_failed_hand_made_endpoint_deletes_nothing(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    """A failed endpoint provisioner owns is re-created; one made by hand is not its to."""
    emulator.add_fault(
        {"kind": "fail_deploy", "namespace": "acme", "name": "hand-made", "message": "OOM"}
    )
    unmanaged(hub_for(emulator), "hand-made")
    emulator.advance(600)
    assert live(emulator)["hand-made"]["status"]["state"] == "failed"
    specs = tmp_path / "endpoints"
    path = write_spec(specs, "hand-made", namespace="acme", adopt=True)
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1, result.text
    assert (
        f"{path}:1:7: error: acme/hand-made is not managed by provisioner yet and must be "
        "replaced (it is in state failed: OOM; the service cannot repair a failed endpoint): "
        "adopting it would delete it"
    ) in result.err
    assert "-/+" not in result.out
    assert mutations(emulator) == []


def test_a_move_to_hardware_the_new_region_does_not_offer_is_refused_before_any_delete(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Deleting first and finding the create refused after would be an outage."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", compute={"instance_size": "x16"})
    apply_ok(cli, specs)
    path = write_spec(
        specs,
        "svc",
        namespace="acme",
        compute={"vendor": "gcp", "region": "us-east4", "instance_size": "x16"},
    )
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1, result.text
    assert f"{path}:10:18: error: compute.instance_size: intel-spr in gcp/us-east4" in result.err
    assert mutations(emulator) == []
    assert live(emulator)["svc"]["provider"]["vendor"] == "aws"


def test_an_in_place_resize_to_a_size_not_offered_is_an_error_at_the_spec(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    apply_ok(cli, specs)
    path = write_spec(specs, "svc", namespace="acme", compute={"instance_size": "x64"})
    emulator.clear_requests()
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1, result.text
    assert f"{path}:10:18: error: compute.instance_size: intel-spr in aws/us-east-1" in result.err
    assert "~ acme/svc" not in result.out
    assert mutations(emulator) == []


def test_a_paused_endpoint_that_is_replaced_comes_back_paused(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", state="paused")
    apply_ok(cli, specs)
    write_spec(specs, "svc", namespace="acme", state="paused", compute={"region": "eu-west-1"})
    plan = cli("plan", "--dir", str(specs))
    assert "-/+ acme/svc" in plan.out, plan.text
    apply_ok(cli, specs)
    endpoint = live(emulator)["svc"]
    assert endpoint["provider"]["region"] == "eu-west-1"
    assert endpoint["status"]["state"] == "paused"  # not running (and billing)
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_a_window_edge_that_lowers_min_replicas_is_not_drift(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """The drift job runs between the window's edge and the scheduled apply: scaling the
    schedule is due to make is no issue to open (a hand change is: test_schedules)."""
    specs = tmp_path / "endpoints"
    write_spec(
        specs,
        "svc",
        namespace="acme",
        scaling={"min_replicas": 0, "max_replicas": 2, "scale_to_zero_timeout": 30},
        schedule={**WORKING_HOURS, "outside": "scaled-to-zero"},
    )
    morning = context_for(emulator, PROVISIONER_NOW=FRIDAY_MORNING)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=morning).code == 0
    night = context_for(emulator, PROVISIONER_NOW=FRIDAY_NIGHT)
    due = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=night)
    assert due.code == 2 and "~ scaling.min_replicas: 1 -> 0" in due.out, due.text
    checked = cli("plan", "--dir", str(specs), "--drift", ctx=night)
    assert checked.code == 0, checked.text
    assert "changed outside provisioner" not in checked.out


def test_an_endpoint_its_schedule_pauses_holds_no_quota(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = make_emulator(quotas={"acme": {"aws": {"nvidia-t4": 2}}})
    t4 = {"accelerator": "gpu", "instance_type": "nvidia-t4", "instance_size": "x1"}
    scaling = {"min_replicas": 1, "max_replicas": 2}
    specs = tmp_path / "endpoints"
    write_spec(
        specs,
        "sleeper",
        namespace="acme",
        compute=t4,
        scaling=scaling,
        schedule={**WORKING_HOURS, "outside": "paused"},
    )
    night = context_for(emulator, PROVISIONER_NOW=FRIDAY_NIGHT)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=night).code == 0
    assert live(emulator)["sleeper"]["status"]["state"] == "paused"
    write_spec(specs, "awake", namespace="acme", compute=t4, scaling=scaling)
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=night)
    assert plan.code == 2, plan.text  # 0 of 2 accelerators in use, awake adds 2
    assert "quota exceeded" not in plan.err
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=night).code == 0
    # 2 of 2 in use (awake): an edit of the sleeper, which stays paused, takes none either.
    write_spec(
        specs,
        "sleeper",
        namespace="acme",
        compute=t4,
        scaling=scaling,
        schedule={**WORKING_HOURS, "outside": "paused"},
        model={"env": {"LOG_LEVEL": "debug"}},
    )
    edit = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=night)
    assert edit.code == 2 and "~ acme/sleeper" in edit.out, edit.text
    assert "quota exceeded" not in edit.err


def test_resend_secrets_sends_nothing_to_an_endpoint_without_secrets(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    secrets = {"API_KEY": {"from_env": "CODER_API_KEY"}}
    write_spec(specs, "coder", namespace="acme", model={"secrets": secrets})
    write_spec(specs, "chat", namespace="acme")
    ctx = context_for(emulator, CODER_API_KEY="coder-key-value-1")
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    plan = cli("plan", "--dir", str(specs), "--resend-secrets", "--json", ctx=ctx)
    actions = {c["address"]: c["action"] for c in json.loads(plan.out)["changes"]}
    assert actions == {"acme/chat": "no-op", "acme/coder": "update"}
    emulator.clear_requests()
    applied = cli("apply", "--dir", str(specs), "--auto-approve", "--resend-secrets", ctx=ctx)
    assert applied.code == 0, applied.text
    assert [p for m, p in mutations(emulator) if m == "PUT"] == ["/v2/endpoint/acme/coder"]
    assert not live(emulator)["chat"]["model"].get("secrets")


def test_removing_the_last_secret_is_sent_and_converges(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    secrets = {"API_KEY": {"from_env": "CODER_API_KEY"}}
    write_spec(specs, "coder", namespace="acme", model={"secrets": secrets})
    ctx = context_for(emulator, CODER_API_KEY="coder-key-value-1")
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert set(live(emulator)["coder"]["model"]["secrets"]) == {"API_KEY"}
    write_spec(specs, "coder", namespace="acme", model={"secrets": {}})
    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    (put,) = [r for r in emulator.requests() if r["method"] == "PUT"]
    assert put["body"]["model"]["secrets"] == {}
    assert live(emulator)["coder"]["model"]["secrets"] == {}
    again = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx)
    assert again.code == 0, again.text


def _put_revision(emu: Emulator, name: str, revision: str) -> None:
    request = urllib.request.Request(
        f"{emu.url}/v2/endpoint/acme/{name}",
        method="PUT",
        data=json.dumps({"model": {"revision": revision}}).encode(),
        headers={"Authorization": "Bearer hf_demo", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request).close()


def test_a_hand_changed_pinned_revision_is_a_change_outside_not_a_moved_branch(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    pinned = hub_commit(emulator, "gpt2", "main")
    write_spec(specs, "svc", namespace="acme", model={"revision": pinned})
    apply_ok(cli, specs)
    other = emulator.move_branch("gpt2", "experiment")
    _put_revision(emulator, "svc", other)  # by hand
    emulator.advance(60)
    plan = cli("plan", "--dir", str(specs), "--drift")
    assert plan.code == 2, plan.text
    assert f"~ model.revision: {other[:7]} -> {pinned[:7]}" in plan.out
    assert "changed outside provisioner" in plan.out
    assert "is now at" not in plan.out


def test_a_token_in_a_service_message_is_never_printed_or_saved(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    token = "hf_" + "Q" * 30
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    emulator.add_fault(
        {
            "kind": "fail_deploy",
            "namespace": "acme",
            "name": "svc",
            "message": f"cannot pull with {token}",
        }
    )
    failed = cli("apply", "--dir", str(specs), "--auto-approve")
    assert failed.code == 1
    assert token not in failed.text
    saved = tmp_path / "plan.json"
    plan = cli("plan", "--dir", str(specs), "--out", str(saved))
    assert "cannot pull with hf_***" in plan.out, plan.text
    assert token not in plan.text and token not in saved.read_text()
    status = cli("status", "--dir", str(specs), "--json")
    assert token not in status.text


def test_a_new_autoscaling_threshold_is_sent_in_place_and_converges(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    scaling = {"max_replicas": 2, "metric": "pending_requests", "threshold": 4}
    write_spec(specs, "svc", namespace="acme", scaling=scaling)
    apply_ok(cli, specs)
    write_spec(specs, "svc", namespace="acme", scaling={**scaling, "threshold": 8})
    emulator.clear_requests()
    apply_ok(cli, specs)
    (put,) = [r for r in emulator.requests() if r["method"] == "PUT"]
    assert put["body"]["compute"] == {"scaling": {"measure": {"pendingRequests": 8}}}
    assert live(emulator)["svc"]["compute"]["scaling"]["measure"] == {"pendingRequests": 8}
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
