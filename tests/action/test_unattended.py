"""`command: apply` from a schedule makes only the schedules' changes and warns about what it
left alone; a suspended stack's unattended applies (push, schedule) change nothing, while a
person's workflow_dispatch still applies."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import HfApi, constants

from provisioner.emulator import Emulator
from tests.action.conftest import Run
from tests.reconcile.helpers import live, mutations, write_spec

pytestmark = pytest.mark.slow

DISPATCH = {"event": {}, "event_name": "workflow_dispatch"}
SCHEDULE = {"event": {"schedule": "*/15 * * * *"}, "event_name": "schedule"}


def test_a_scheduled_apply_warns_about_a_hand_change_and_leaves_it(
    tmp_path: Path, instant_emulator: Emulator, run_action: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_spec(tmp_path / "endpoints", "chat", namespace="acme")
    assert run_action(instant_emulator, command="apply", **DISPATCH).outputs["exit-code"] == "0"
    # An on-call engineer's change, through the real client.
    monkeypatch.setattr(constants, "INFERENCE_ENDPOINTS_ENDPOINT", f"{instant_emulator.url}/v2")
    HfApi(endpoint=instant_emulator.url, token="hf_demo").update_inference_endpoint(
        "chat", namespace="acme", min_replica=2, max_replica=2
    )
    instant_emulator.clear_requests()
    scheduled = run_action(instant_emulator, command="apply", **SCHEDULE)
    assert (scheduled.outputs["exit-code"], scheduled.outputs["failed"]) == ("0", "false")
    assert mutations(instant_emulator) == []
    assert live(instant_emulator)["chat"]["compute"]["scaling"]["minReplica"] == 2
    assert "::warning title=provisioner%3A drift left alone::Left alone: 1 endpoint(s)" in (
        scheduled.stdout
    )


def test_a_suspended_stack_is_not_applied_on_push_or_schedule(
    tmp_path: Path, instant_emulator: Emulator, run_action: Run
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme")
    (specs / "_settings.yaml").write_text("stack: team\nsuspend: migrating the bucket\n")
    for event in (SCHEDULE, {"event": {"ref": "refs/heads/main"}, "event_name": "push"}):
        done = run_action(instant_emulator, command="apply", require_review="false", **event)
        assert done.outputs["exit-code"] == "0", done.log
        assert "Stack 'team' is suspended" in done.log
        assert live(instant_emulator) == {}
    dispatched = run_action(instant_emulator, command="apply", **DISPATCH)
    assert dispatched.outputs["exit-code"] == "0", dispatched.log
    assert set(live(instant_emulator)) == {"chat"}
