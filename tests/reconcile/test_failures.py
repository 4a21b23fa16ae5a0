"""Faults from the API: retried where safe, reported per endpoint where not; re-running
converges."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_failed_deploy_is_reported_and_rerun_recreates_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme")
    write_spec(specs, "doomed", namespace="acme")
    emulator.add_fault(
        {
            "kind": "fail_deploy",
            "namespace": "acme",
            "name": "doomed",
            "message": "Error: model weights could not be loaded",
        }
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        "✗ acme/doomed: create accepted, but failed to deploy: Error: model weights could not be "
        "loaded" in result.err
    )
    assert "The other changes finished" in result.err
    endpoints = live(emulator)
    assert endpoints["good"]["status"]["state"] == "running"
    assert endpoints["doomed"]["status"]["state"] == "failed"

    plan = cli("plan", "--dir", str(specs))
    assert "-/+ acme/doomed: replace" in plan.out
    assert "it is in state failed" in plan.out
    again = cli("apply", "--dir", str(specs), "--auto-approve")
    assert again.code == 0, again.text
    assert live(emulator)["doomed"]["status"]["state"] == "running"
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_failed_update_is_reported_with_its_message(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 3})
    emulator.add_fault(
        {"kind": "fail_update", "namespace": "acme", "name": "svc", "message": "OOM on start"}
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "✗ acme/svc: update accepted, but failed to update: OOM on start" in result.err
    plan = cli("plan", "--dir", str(specs))
    assert "its last update failed" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def _custom(tag: str, port: int) -> dict[str, Any]:
    return {"model": {"engine": "custom", "image": {"url": f"ghcr.io/a/b:{tag}", "port": port}}}


@pytest.mark.parametrize(
    ("field", "before", "edit", "reported"),
    [
        (
            "compute.scaling.maxReplica",
            {},
            {"scaling": {"min_replicas": 1, "max_replicas": 3}},
            ["scaling.max_replicas: acme/svc: the service accepted the update but did not keep 3 "
             "(it reports 1)"],
        ),
        (
            "model.env",
            {},
            {"model": {"env": {"MODE": "fast"}}},
            ['model.env.MODE: acme/svc: the service accepted the update but did not keep "fast" '
             "(it reports none)"],
        ),
        (
            "model.image",
            _custom("1", 8080),
            _custom("2", 9090),
            ["model.image.port: acme/svc: the service accepted the update but did not keep 9090 "
             "(it reports 8080)",
             'model.image.url: acme/svc: the service accepted the update but did not keep '
             '"ghcr.io/a/b:2" (it reports "ghcr.io/a/b:1")'],
        ),
    ],
    ids=["scaling", "env", "image"],
)  # fmt: skip
def test_an_update_the_service_accepts_but_does_not_take_is_reported(
    tmp_path: Path,
    cli: Cli,
    emulator: Emulator,
    field: str,
    before: dict[str, Any],
    edit: dict[str, Any],
    reported: list[str],
) -> None:
    """The service answers the PUT with 200 but reports another value than was sent: apply
    reads the update back and says what it did not keep, at the spec's line; the next apply
    does not send it again (sending cannot make a value stick), the plan shows it as not kept,
    and `--resend-not-kept` tries again (here the service keeps it: converged)."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", **before)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    spec = write_spec(specs, "svc", namespace="acme", **edit)
    emulator.add_fault({"kind": "drop_field", "namespace": "acme", "name": "svc", "field": field})
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    for text in reported:
        assert f"{spec}:" in result.err and f": warning: {text}" in result.err, result.err
    emulator.clear_requests()
    again = cli("apply", "--dir", str(specs), "--auto-approve")
    assert again.code == 0 and mutations(emulator) == [], again.text
    planned = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert planned.code == 0 and "not kept by the service" in planned.out, planned.text
    assert cli("apply", "--dir", str(specs), "--auto-approve", "--resend-not-kept").code == 0
    clean = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert clean.code == 0 and "not kept" not in clean.text, clean.text


def test_transient_faults_are_retried(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    emulator.add_fault(
        {"kind": "http", "method": "GET", "path": "/v2/endpoint/acme", "status": 503, "count": 2}
    )
    emulator.add_fault(
        {
            "kind": "http",
            "method": "POST",
            "path": "/v2/endpoint/acme",
            "status": 429,
            "count": 1,
            "retry_after": 3,
        }
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    assert result.err.count("retrying list endpoints of acme") == 2
    assert "retrying create acme/svc in 3.0s: 429" in result.err
    assert set(live(emulator)) == {"svc"}


def test_a_delete_whose_response_was_lost_finds_it_gone_and_succeeds(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """The service deleted the endpoint but the answer never arrived (a 503 after the fact):
    the retried DELETE meets a 404, which means the goal is met, not that apply failed."""
    specs = tmp_path / "endpoints"
    for name in ("a", "b", "gone"):
        write_spec(specs, name, namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    (specs / "gone.yaml").unlink()
    emulator.add_fault(
        {
            "kind": "http",
            "method": "DELETE",
            "path": "/v2/endpoint/acme/gone",
            "status": 503,
            "after": True,
            "retry_after": 5,  # past the delete's grace period: the retry finds nothing
        }
    )
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    assert "retrying delete acme/gone" in result.err
    assert "Apply complete: 1 deleted." in result.out
    deletes = [r["status"] for r in emulator.requests() if r["method"] == "DELETE"]
    assert deletes == [503, 404]
    assert set(live(emulator)) == {"a", "b"}


def test_quota_taken_after_the_plan_is_checked_again_before_anything_is_sent(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi
) -> None:
    """The plan checks quota (tests/reconcile/test_quota.py); `apply PLAN` plans again, so
    quota someone else took in between stops it before anything is sent."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "small", namespace="acme")
    write_spec(specs, "big", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 10})
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    # intel-spr x2 counts 2 per replica, of 60: 50 taken by hand, the plan's 20 no longer fit.
    unmanaged(hf_api, "elsewhere", min_replica=1, max_replica=25)
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "the service would answer 409" in result.err
    assert mutations(emulator) == []
    assert set(live(emulator)) == {"elsewhere"}


def test_wait_times_out_with_a_clear_message(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "slow", namespace="acme")
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--timeout", "4")
    assert result.code == 1
    assert "acme/slow: create accepted, but did not become running within 4s" in result.err


def test_no_wait_returns_after_sending(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--no-wait")
    assert result.code == 0
    assert "Apply complete: 1 created." in result.out
    assert live(emulator)["svc"]["status"]["state"] == "pending"


def test_create_whose_response_was_lost_is_recognised_as_ours(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """The service created the endpoint but the answer never arrived (a 503 after the fact):
    the retry meets "already exists", finds our own tags, and counts it as created."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    emulator.add_fault(
        {
            "kind": "http",
            "method": "POST",
            "path": "/v2/endpoint/acme",
            "status": 503,
            "count": 1,
            "after": True,
        }
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    assert "retrying create acme/svc" in result.err
    assert "Apply complete: 1 created." in result.out
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_create_colliding_with_someone_elses_new_endpoint_fails(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., object]
) -> None:
    """Planned as a create, but an unmanaged endpoint of that name appeared before apply: the
    409 is not mistaken for our own lost create."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    unmanaged(hub_for(emulator), "svc")  # type: ignore[arg-type]
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "acme/svc was created since the plan was made" in result.err


def test_an_answer_that_cannot_be_read_fails_only_its_endpoint(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """A 200 whose body lacks what the client needs is that endpoint's failure, reported by
    name; the other changes go on, and a re-run converges."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "a", namespace="acme")
    write_spec(specs, "b", namespace="acme")
    emulator.add_fault(
        {
            "kind": "http",
            "method": "POST",
            "path": "/v2/endpoint/acme",
            "status": 200,
            "after": True,
            "count": 1,
            "message": "half an answer",
        }
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--parallelism", "1")
    assert result.code == 1, result.text
    assert "internal error" not in result.err
    assert "acme/a: create: the service's answer could not be read" in result.err
    assert "1 created; 1 failed" in result.err
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_ctrl_c_says_what_had_been_sent(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    """Interrupted while waiting: exit 130 with an account of every change, then a re-run
    converges."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "a", namespace="acme")
    write_spec(specs, "b", namespace="acme")

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    ctx = replace(context_for(emulator), sleep=interrupt)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert result.code == 130, result.text
    assert "Interrupted. What had been sent:" in result.err
    assert "acme/a: create accepted" in result.err
    assert "acme/b: create accepted" in result.err
    hint = f"provisioner plan --dir {specs} --api-url {emulator.url}"
    assert f"Run `{hint}` to see where each endpoint stands" in result.err
    assert cli(*hint.split()[1:]).code == 0  # the hint works as printed
    # The interrupted apply released the lock and left its record: what it had sent, and that
    # neither create had finished (both were still pending), never "2 ok".
    history = cli("history", "--dir", str(specs))
    assert "interrupted: 2 interrupted" in history.out, history.text
    assert (
        "interrupted create  acme/a: accepted, but the apply was interrupted before it was "
        "running (last state: pending)" in history.out
    )
    listed = cli("history", "--dir", str(specs), "--json").out.splitlines()
    (record,) = [json.loads(line) for line in listed]
    assert record["interrupted"] is True
    assert [a["outcome"] for a in record["actions"]] == ["interrupted", "interrupted"]
    # The state follows what the service accepted: both endpoints are recorded.
    shown = cli("state", "show", "--dir", str(specs))
    assert "acme/a: applied" in shown.out and "acme/b: applied" in shown.out, shown.text
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_ctrl_c_after_one_change_settled_records_it_ok_and_the_other_interrupted(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """A pause settles at once, a create takes a while: interrupted while waiting for the
    create, the history says the pause is ok and the create interrupted."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "a", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "a", namespace="acme", state="paused")
    write_spec(specs, "b", namespace="acme")

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    ctx = replace(context_for(emulator), sleep=interrupt)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert result.code == 130, result.text
    history = cli("history", "--dir", str(specs), "--limit", "1")
    lines = history.out.splitlines()
    assert "interrupted: 1 ok, 1 interrupted" in lines[0], history.text
    assert lines[1:] == [
        "    ok          pause   acme/a",
        "    interrupted create  acme/b: accepted, but the apply was interrupted before it was "
        "running (last state: pending)",
    ]


def test_ctrl_c_during_a_smoke_test_records_the_change_interrupted(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Settled, but its smoke test (retrying a cold start's 503) is where Ctrl-C lands: the
    change is interrupted, not ok; the other endpoint, which has no smoke test, is ok."""
    specs = tmp_path / "endpoints"
    smoke = {"request": {"inputs": "Say hello"}, "expect": {"status": 200}}
    write_spec(specs, "chat", namespace="acme", smoke=smoke)
    write_spec(specs, "plain", namespace="acme")
    emulator.add_fault(
        {"kind": "http", "method": "POST", "path": "/endpoints/acme/chat", "status": 503,
         "count": 99}
    )  # fmt: skip

    def interrupt_once_running(seconds: float) -> None:
        # The waiter sleeps only while something is not ready: once both run, it is the smoke
        # test's retry that sleeps.
        if {e["status"]["state"] for e in live(emulator).values()} == {"running"}:
            raise KeyboardInterrupt
        emulator.advance(seconds)

    ctx = replace(context_for(emulator), sleep=interrupt_once_running)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert result.code == 130, result.text
    lines = cli("history", "--dir", str(specs)).out.splitlines()
    assert "interrupted: 1 ok, 1 interrupted" in lines[0], lines
    assert lines[1:] == [
        "    interrupted create  acme/chat: settled, but the apply was interrupted before its "
        "smoke test",
        "    ok          create  acme/plain",
    ]


def test_a_create_that_timed_out_is_reported_as_created_and_the_next_plan_names_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "slow", namespace="acme")
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--timeout", "4")
    assert result.code == 1
    assert "Apply incomplete: 1 created (not settled)." in result.err  # not "nothing changed"
    assert "  ✗ acme/slow: create accepted, but did not become running within 4s (last state: " in (
        result.err
    )
    assert "acme/slow did not" not in result.err  # the address once per line
    assert "The other changes finished" not in result.err  # there were none
    assert "An endpoint that did not settle exists all the same" in result.err
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert plan.code == 0
    state = live(emulator)["slow"]["status"]["state"]
    assert state in ("pending", "initializing")
    assert f"No changes: 1 endpoint matches its spec. Not running yet: acme/slow ({state})" in (
        plan.out
    )


def test_ctrl_c_while_changes_run_starts_no_further_change(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Terraform's behaviour: an interrupt stops scheduling; what is in flight finishes; what
    had not started is not started, and the account says so."""
    specs = tmp_path / "endpoints"
    for name in ("a", "b", "c"):
        write_spec(specs, name, namespace="acme")
    # The first create meets a 503; the retry's wait is where the user presses Ctrl-C.
    emulator.add_fault(
        {"kind": "http", "method": "POST", "path": "/v2/endpoint/acme", "status": 503, "count": 1}
    )

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    ctx = replace(context_for(emulator), sleep=interrupt)
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--parallelism", "1", ctx=ctx)
    assert result.code == 130, result.text
    creates = [r for r in emulator.requests() if r["method"] == "POST"]
    assert len(creates) == 1  # the interrupted one; b and c were never sent
    assert "acme/b: not started" in result.err and "acme/c: not started" in result.err
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_sigterm_says_what_had_been_sent_and_exits_143(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """`kill` (a CI job cancelled, a container stopped) is handled as Ctrl-C is: the account of
    what had been sent, no traceback, exit 128 + SIGTERM; then a re-run converges."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "a", namespace="acme")
    write_spec(specs, "b", namespace="acme")

    def terminate(seconds: float) -> None:  # while waiting for the creates: a real signal
        os.kill(os.getpid(), signal.SIGTERM)

    def unhandled(signum: int, frame: object) -> None:
        # Stands in for the default action, which would end this test run's process too.
        raise RuntimeError("SIGTERM reached the handler the CLI found: it would have died")

    ctx = replace(context_for(emulator), sleep=terminate)
    found = signal.signal(signal.SIGTERM, unhandled)
    try:
        result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
        assert signal.getsignal(signal.SIGTERM) is unhandled  # the CLI put back what it found
    finally:
        signal.signal(signal.SIGTERM, found)
    assert result.code == 143, result.text
    assert "Interrupted. What had been sent:" in result.err
    assert "acme/a: create accepted" in result.err and "acme/b: create accepted" in result.err
    assert result.err.endswith("Terminated.\n") and "Traceback" not in result.err
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_waiting_that_cannot_list_any_more_fails_the_apply_and_says_why(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """The creates were accepted, then the listing the waiter polls is refused: the apply does
    not claim success, each endpoint it was waiting for says waiting stopped and why."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "a", namespace="acme")
    write_spec(specs, "b", namespace="acme")

    def refuse_then_sleep(seconds: float) -> None:
        emulator.add_fault(
            {"kind": "http", "method": "GET", "path": "/v2/endpoint/acme", "status": 403,
             "count": 99}
        )  # fmt: skip
        emulator.advance(seconds)

    ctx = replace(context_for(emulator), sleep=refuse_then_sleep)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert result.code == 1, result.text
    assert "internal error" not in result.err
    for name in ("a", "b"):
        assert f"acme/{name}: create accepted, but waiting stopped: " in result.err, result.err
    emulator.clear_faults()
    assert sorted(live(emulator)) == ["a", "b"]
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0


def test_waiting_shows_each_endpoint_state_target_and_time_and_marks_a_failure(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """What a CI log shows while apply waits: one line per endpoint and state change."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme")
    write_spec(specs, "doomed", namespace="acme")
    emulator.add_fault(
        {"kind": "fail_deploy", "namespace": "acme", "name": "doomed", "message": "no weights"}
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--parallelism", "1")
    assert result.code == 1
    waiting = [line for line in result.out.splitlines() if line[:2] in ("… ", "✓ ", "✗ ")]
    assert waiting == [
        "… acme/doomed: pending (target running, 0s)",
        "… acme/good: pending (target running, 0s)",
        "… acme/doomed: initializing (target running, 4s)",
        "… acme/good: initializing (target running, 4s)",
        "✗ acme/doomed: failed (target running, 15s)",
        "✓ acme/good: running (target running, 15s)",
    ], result.out
