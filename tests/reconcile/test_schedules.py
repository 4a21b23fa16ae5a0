"""`schedule:` end to end against the emulator, with fixed clocks (`PROVISIONER_NOW`): the
scheduled CI apply is a no-op inside a window, pauses at its edge, resumes (and re-applies the
window's scaling) when the next one opens; the plan says which window decided, in every format."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.cli.context import Context
from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]

# Europe/Madrid, week of 2027-03-22 (CET, UTC+1): Friday 26 March.
FRIDAY_MORNING = "2027-03-26T09:00:00+01:00"
FRIDAY_AFTERNOON = "2027-03-26T17:45:00Z"  # 18:45 CET, still inside 08:00-20:00
FRIDAY_NIGHT = "2027-03-26T19:00:00Z"  # 20:00 CET: the window has just closed
MONDAY_MORNING = "2027-03-29T06:00:00Z"  # 08:00 CEST (after the switch on Sunday 28)


def _scheduled(specs: Path, **extra: object) -> None:
    write_spec(
        specs,
        "svc",
        namespace="acme",
        scaling={"min_replicas": 0, "max_replicas": 2, "scale_to_zero_timeout": 30},
        schedule={
            "timezone": "Europe/Madrid",
            "windows": [{"days": "mon-fri", "hours": "08:00-20:00", "min_replicas": 1}],
            "outside": "paused",
        },
        **extra,
    )


def _at(emulator: Emulator, now: str) -> Context:
    return context_for(emulator, PROVISIONER_NOW=now)


def test_scheduled_apply_is_a_noop_inside_a_window_and_follows_the_edges(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    morning = _at(emulator, FRIDAY_MORNING)
    plan = cli("plan", "--dir", str(specs), ctx=morning)
    assert plan.code == 0, plan.text
    assert (
        "schedule: running: window mon-fri 08:00-20:00 Europe/Madrid until "
        "Fri 2027-03-26 20:00 CET (2027-03-26T19:00:00Z)" in plan.out
    )
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=morning).code == 0
    svc = live(emulator)["svc"]
    assert svc["compute"]["scaling"]["minReplica"] == 1  # the window's min_replicas

    # Later in the same window: the scheduled apply changes nothing, sends nothing.
    emulator.clear_requests()
    again = cli("apply", "--dir", str(specs), "--auto-approve", ctx=_at(emulator, FRIDAY_AFTERNOON))
    assert again.code == 0, again.text
    assert mutations(emulator) == []
    assert "No changes" in again.out

    # At the window's end: paused by the schedule, then nothing more until Monday.
    night = _at(emulator, FRIDAY_NIGHT)
    plan = cli("plan", "--dir", str(specs), ctx=night)
    assert "|| acme/svc: pause" in plan.out
    assert "paused by its schedule" in plan.out
    assert "next window opens Mon 2027-03-29 08:00 CEST (2027-03-29T06:00:00Z)" in plan.out
    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=night).code == 0
    assert [m for m, _ in mutations(emulator)] == ["POST"]  # the pause, nothing else
    assert live(emulator)["svc"]["status"]["state"] == "paused"
    emulator.clear_requests()
    quiet = cli("apply", "--dir", str(specs), "--auto-approve", ctx=night)
    assert quiet.code == 0 and mutations(emulator) == []
    assert "acme/svc: paused outside its schedule (Europe/Madrid)" in quiet.out

    # Monday: resumed, and the window's scaling applied again over the resume's 1/1.
    monday = _at(emulator, MONDAY_MORNING)
    plan = cli("plan", "--dir", str(specs), ctx=monday)
    assert "resumed by its schedule" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=monday).code == 0
    svc = live(emulator)["svc"]
    assert svc["status"]["state"] != "paused"
    assert (svc["compute"]["scaling"]["minReplica"], svc["compute"]["scaling"]["maxReplica"]) == (
        1,
        2,
    )
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=monday).code == 0


def test_json_plan_records_now_and_the_decision(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    result = cli("plan", "--dir", str(specs), "--json", ctx=_at(emulator, FRIDAY_NIGHT))
    assert result.code == 0, result.text
    document = json.loads(result.out)
    assert document["now"] == FRIDAY_NIGHT
    (change,) = document["changes"]
    assert change["steps"] == ["create", "pause"]
    schedule = change["schedule"]
    assert (schedule["state"], schedule["window"]) == ("paused", None)
    assert schedule["until"] == "2027-03-29T06:00:00Z"
    # 60 of the week's 167 real hours (the week of the spring switch) run 1..2 replicas.
    (window, outside) = schedule["week"]
    assert window[1:] == [1, 2] and abs(window[0] - 60 / 167) < 1e-3
    assert outside[1:] == [0, 0]
    cost = change["cost"]["monthly_after"]
    price = change["cost"]["after"]["price_per_hour"]
    assert abs(cost["low"] - round(60 / 167 * price * 730, 2)) < 0.05
    assert abs(cost["high"] - round(2 * 60 / 167 * price * 730, 2)) < 0.05


def test_explicit_paused_wins_over_the_schedule(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _scheduled(specs, state="paused")
    plan = cli("plan", "--dir", str(specs), ctx=_at(emulator, FRIDAY_MORNING))
    assert plan.code == 0, plan.text
    assert "create, then pause" in plan.out
    assert "paused: state: paused declared, which wins over its schedule" in plan.out


def test_a_malformed_now_is_a_usage_error(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    for value, words in (
        ("friday", "is not an ISO 8601 date and time"),
        ("2027-03-26T09:00:00", "has no UTC offset"),
    ):
        emulator.clear_requests()
        result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=_at(emulator, value))
        assert result.code == 1
        assert f"PROVISIONER_NOW: {value!r} {words}" in result.err
        assert "Traceback" not in result.text
        assert emulator.requests() == []  # stopped before reading anything


def test_a_saved_plan_is_refused_once_its_schedule_decides_otherwise(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    assert (
        cli("apply", "--dir", str(specs), "--auto-approve", ctx=_at(emulator, FRIDAY_MORNING)).code
        == 0
    )
    saved = tmp_path / "plan.json"
    made = cli("plan", "--dir", str(specs), "--out", str(saved), ctx=_at(emulator, FRIDAY_NIGHT))
    assert made.code == 0, made.text
    shown = cli("show-plan", str(saved), "--format", "markdown")
    assert "Schedule: paused outside its schedule (Europe/Madrid)" in shown.out
    # Applied on Monday morning, when the window is open, the pause it saved is not what the
    # schedule says any more: nothing is changed.
    emulator.clear_requests()
    refused = cli("apply", str(saved), ctx=_at(emulator, MONDAY_MORNING))
    assert refused.code == 1, refused.text
    assert "planned again now, the changes are not the saved plan's" in refused.err
    assert mutations(emulator) == []
    # Applied while its decision holds, it makes the pause.
    applied = cli("apply", str(saved), ctx=_at(emulator, FRIDAY_NIGHT))
    assert applied.code == 0, applied.text
    assert [m for m, _ in mutations(emulator)] == ["POST"]
    assert live(emulator)["svc"]["status"]["state"] == "paused"
    # The history says at which instant the schedules were evaluated: the plan's, not Monday's.
    history = cli("history", "--dir", str(specs))
    assert history.out.splitlines()[1] == "    schedules evaluated at 2027-03-26T19:00:00Z"
    records = cli("history", "--dir", str(specs), "--json").out.splitlines()
    assert [json.loads(r)["schedules_evaluated_at"] for r in records] == [
        "2027-03-26T19:00:00Z",
        "2027-03-26T08:00:00Z",  # FRIDAY_MORNING, in UTC
    ]


def test_outside_scaled_to_zero_lowers_min_replicas_and_keeps_the_timeout(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(
        specs,
        "svc",
        namespace="acme",
        scaling={"min_replicas": 0, "max_replicas": 2, "scale_to_zero_timeout": 30},
        schedule={
            "timezone": "America/New_York",
            "windows": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "hours": "09:00-17:00",
                    "min_replicas": 2,
                }
            ],
            "outside": "scaled-to-zero",
        },
    )
    inside = _at(emulator, "2027-03-24T14:00:00Z")  # Wed 10:00 EDT
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=inside).code == 0
    scaling = live(emulator)["svc"]["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (2, 2)
    outside = _at(emulator, "2027-03-24T21:00:00Z")  # Wed 17:00 EDT: the window has closed
    plan = cli("plan", "--dir", str(specs), ctx=outside)
    assert "scaling.min_replicas, scaling.scale_to_zero_timeout set by its schedule" in plan.out
    assert "~ scaling.min_replicas: 2 -> 0" in plan.out
    assert "scaled to zero (min_replicas 0) outside its schedule" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=outside).code == 0
    scaling = live(emulator)["svc"]["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["scaleToZeroTimeout"]) == (0, 30)
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=outside).code == 0


def test_without_provisioner_now_the_clock_decides(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    clock = context_for(emulator)
    clock.environ = {k: v for k, v in clock.environ.items() if k != "PROVISIONER_NOW"}
    clock.now = lambda: datetime(2027, 3, 26, 19, 0, tzinfo=UTC)  # Friday 20:00 in Madrid
    plan = cli("plan", "--dir", str(specs), ctx=clock)
    assert plan.code == 0, plan.text
    assert "create, then pause" in plan.out
    assert "next window opens Mon 2027-03-29 08:00 CEST" in plan.out


def test_status_says_what_each_schedule_decides_and_until_when(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    write_spec(specs, "plain", namespace="acme")
    assert (
        cli("apply", "--dir", str(specs), "--auto-approve", ctx=_at(emulator, FRIDAY_NIGHT)).code
        == 0
    )
    status = cli("status", "--dir", str(specs), ctx=_at(emulator, FRIDAY_NIGHT))
    assert status.code == 0, status.text
    assert "all in sync." in status.out
    assert (
        "Schedules (at 2027-03-26T19:00:00Z):\n"
        "  acme/svc: paused outside its schedule (Europe/Madrid); next window opens "
        "Mon 2027-03-29 08:00 CEST (2027-03-29T06:00:00Z)\n"
    ) in status.out
    assert "acme/plain:" not in status.out.split("Schedules")[1]
    document = json.loads(
        cli("status", "--dir", str(specs), "--format", "json", ctx=_at(emulator, FRIDAY_NIGHT)).out
    )
    assert document["now"] == "2027-03-26T19:00:00Z"
    entries = {e["address"]: e for e in document["endpoints"]}
    assert entries["acme/plain"]["schedule"] is None
    svc = entries["acme/svc"]["schedule"]
    assert (svc["state"], svc["window"], svc["until"]) == ("paused", None, "2027-03-29T06:00:00Z")


def test_a_drift_check_does_not_count_a_schedules_due_edge_but_counts_a_hand_change(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi
) -> None:
    """`plan --drift` after a window closed and before the scheduled apply paused: exit 0 (the
    plan still shows the pause), where `--detailed-exitcode` exits 2. A change made by hand
    is drift: exit 2, whatever the schedule is due to do too."""
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    write_spec(specs, "plain", namespace="acme")
    morning = _at(emulator, FRIDAY_MORNING)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=morning).code == 0
    night = _at(emulator, FRIDAY_NIGHT)
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=night).code == 2

    checked = cli("plan", "--dir", str(specs), "--drift", ctx=night)
    assert checked.code == 0, checked.text
    assert "|| acme/svc: pause" in checked.out and "paused by its schedule" in checked.out
    assert (
        "Not counted as drift (due to a schedule, which the scheduled apply follows): acme/svc"
        in checked.err
    )
    as_json = cli("plan", "--dir", str(specs), "--drift", "--json", ctx=night)
    reasons = {c["name"]: c["reasons"] for c in json.loads(as_json.out)["changes"]}
    assert as_json.code == 0 and [r["code"] for r in reasons["svc"]] == ["schedule-pause"]

    hf_api.update_inference_endpoint("plain", namespace="acme", instance_size="x4")
    emulator.advance(60)
    drifted = cli("plan", "--dir", str(specs), "--drift", ctx=night)
    assert drifted.code == 2, drifted.text
    assert "acme/plain" in drifted.out and "changed outside provisioner" in drifted.out
