"""Smoke tests (`smoke:` in a spec) through the real CLI against the emulator: after apply, and on
demand with `provisioner smoke`. The emulator's clock is frozen and is provisioner's clock and
sleep, so a cold start's retries move emulated time, never real time."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from provisioner.cli.context import _hub_api
from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.config import OrgConfig, TokenConfig, UserConfig
from provisioner.hub.client import Connection
from provisioner.hub.retry import Retrier
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import Together, live, write_spec
from tests.support.cli import Result, run

Cli = Callable[..., Result]
LINK = {"account_id": "123456789012", "region": "us-east-1"}
TEXT = {"inputs": "Say hello", "parameters": {"max_new_tokens": 4}}


def smoke(expect: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"request": TEXT, "expect": expect, **extra}


def endpoint_posts(emu: Emulator, name: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emu.requests()
        if r["method"] == "POST" and r["path"] == f"/endpoints/acme/{name}"
    ]


def apply(cli: Cli, specs: Path, *args: str) -> Result:
    return cli("apply", "--dir", str(specs), "--auto-approve", *args)


def test_a_passing_smoke_test_is_shown_after_apply(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}))
    result = apply(cli, specs)
    assert result.code == 0, result.text
    assert "Apply complete: 1 created.\n  ✓ acme/chat: smoke test passed (200)\n" in result.out
    assert len(endpoint_posts(emulator, "chat")) == 1
    # A smoke test is not part of the endpoint: the next plan is empty.
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_a_failing_smoke_test_exits_1_and_the_other_endpoint_is_created_all_the_same(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}))
    write_spec(specs, "bad", namespace="acme", smoke=smoke({"status": 201}))
    write_spec(specs, "plain", namespace="acme")
    result = apply(cli, specs)
    assert result.code == 1
    assert "Apply incomplete: 3 created; 1 smoke test failed." in result.err
    assert "  ✓ acme/good: smoke test passed (200)" in result.err
    assert "  ✗ acme/bad: smoke test failed: status 200, expected 201" in result.err
    assert '      answer (200): [{"generated_text": ' in result.err
    # The suggested command works as printed: it names the endpoint and repeats --dir.
    hint = re.search(r"check again with `(provisioner smoke [^`]*)`", result.err)
    assert hint is not None, result.err
    assert hint.group(1).startswith(f"provisioner smoke acme/bad --dir {shlex.quote(str(specs))}")
    again = cli(*shlex.split(hint.group(1))[1:])
    assert again.code == 1
    assert "✗ acme/bad: smoke test failed: status 200, expected 201" in again.out + again.err
    endpoints = live(emulator)
    assert {n: e["status"]["state"] for n, e in endpoints.items()} == {
        "good": "running",
        "bad": "running",
        "plain": "running",
    }
    # The change itself stands: the next plan is empty, and the history says why it failed.
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
    history = cli("history", "--dir", str(specs))
    assert "smoke test failed" in history.text


def test_a_missing_key_and_a_schema_mismatch_are_each_named(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "keys", namespace="acme", smoke=smoke({"keys": ["[0].summary_text"]}))
    schema = {"type": "object", "required": ["answer"]}
    write_spec(specs, "schema", namespace="acme", smoke=smoke({"schema": schema}))
    result = apply(cli, specs)
    assert result.code == 1
    assert (
        "✗ acme/keys: smoke test failed: key [0].summary_text is missing: no key "
        "'summary_text' at [0] (an object)" in result.err
    )
    assert (
        "✗ acme/schema: smoke test failed: does not match expect.schema at the top level: "
        in result.err
    )
    assert "is not of type 'object'" in result.err


def test_no_smoke_skips_them(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "bad", namespace="acme", smoke=smoke({"status": 201}))
    result = apply(cli, specs, "--no-smoke")
    assert result.code == 0, result.text
    assert "smoke test" not in result.text
    assert endpoint_posts(emulator, "bad") == []


def test_only_endpoints_this_apply_changed_are_tested(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "a", namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}))
    write_spec(specs, "b", namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}))
    assert apply(cli, specs).code == 0
    emulator.clear_requests()
    write_spec(
        specs, "b", namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}), tags=["x"]
    )
    result = apply(cli, specs)
    assert result.code == 0, result.text
    assert "✓ acme/b: smoke test passed" in result.out and "acme/a:" not in result.out
    assert endpoint_posts(emulator, "a") == []


def test_private_and_paused_endpoints_are_reported_not_run(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    test = smoke({"keys": ["[0].generated_text"]})
    write_spec(specs, "inside", namespace="acme", type="private", private_link=LINK, smoke=test)
    write_spec(specs, "asleep", namespace="acme", state="paused", smoke=test)
    result = apply(cli, specs)
    assert result.code == 0, result.text
    assert (
        "  - acme/inside: smoke test not run: private endpoint (only reachable through AWS "
        "PrivateLink)" in result.out
    )
    on_demand = cli("smoke", "--dir", str(specs))
    assert on_demand.code == 0, on_demand.text
    assert "  - acme/asleep: smoke test not run: paused" in on_demand.out
    assert "  - acme/inside: smoke test not run: private endpoint" in on_demand.out
    assert "2 smoke tests: 2 not run." in on_demand.out


def test_smoke_command_wakes_a_scaled_to_zero_endpoint_as_a_cold_start(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(
        specs,
        "idle",
        namespace="acme",
        scaling={"min_replicas": 0, "max_replicas": 1, "scale_to_zero_timeout": 15},
        smoke=smoke({"keys": ["[0].generated_text"]}, timeout=60),
    )
    assert apply(cli, specs).code == 0
    emulator.advance(16 * 60)  # idle: scaled to zero
    assert live(emulator)["idle"]["status"]["state"] == "scaledToZero"
    result = cli("smoke", "--dir", str(specs), "idle")
    assert result.code == 0, result.text
    assert "✓ acme/idle: smoke test passed (200, woken from a cold start)" in result.out
    statuses = [p["status"] for p in endpoint_posts(emulator, "idle")]
    # This emulator's clock is frozen, so it cannot hold the request for X-Scale-Up-Timeout:
    # it answers 503 while the replica starts, retried as a cold start until it answers.
    assert len(statuses) > 1 and set(statuses[:-1]) == {503} and statuses[-1] == 200


def test_a_cold_start_longer_than_the_timeout_fails_with_did_not_wake(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(
        specs,
        "slow",
        namespace="acme",
        scaling={"min_replicas": 0, "max_replicas": 1, "scale_to_zero_timeout": 15},
        smoke=smoke({"keys": ["[0].generated_text"]}, timeout=3),
    )
    assert apply(cli, specs).code == 0
    emulator.advance(16 * 60)
    result = cli("smoke", "--dir", str(specs))
    assert result.code == 1
    assert "✗ acme/slow: smoke test failed: did not wake within 3s: still 503 after" in result.err


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def running_clock() -> Iterator[Emulator]:
    """An emulator whose clock runs (speed 1) on fake time that only its own sleep moves: a
    request holding for `X-Scale-Up-Timeout` moves emulated time as far as it waited."""
    fake = FakeTime()
    with Emulator(EmulatorConfig(speed=1.0), monotonic=fake.monotonic, sleep=fake.sleep) as emu:
        yield emu


def test_with_a_running_clock_the_header_wakes_it_in_one_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], running_clock: Emulator
) -> None:
    emu = running_clock
    context = context_for(emu)
    specs = tmp_path / "endpoints"
    write_spec(
        specs,
        "idle",
        namespace="acme",
        scaling={"min_replicas": 0, "max_replicas": 1, "scale_to_zero_timeout": 15},
        smoke=smoke({"keys": ["[0].generated_text"]}),
    )
    applied = run(capsys, "apply", "--dir", str(specs), "--auto-approve", context=context)
    assert applied.code == 0, applied.text
    emu.advance(16 * 60)
    emu.clear_requests()
    result = run(capsys, "smoke", "--dir", str(specs), context=context)
    assert result.code == 0, result.text
    assert [p["status"] for p in endpoint_posts(emu, "idle")] == [200]


def test_smoke_command_names_unknown_names_and_specs_without_a_test(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}))
    write_spec(specs, "plain", namespace="acme")
    assert apply(cli, specs).code == 0
    emulator.clear_requests()
    unknown = cli("smoke", "--dir", str(specs), "chat", "nope")
    assert unknown.code == 1
    assert "error: no spec in this stack is named 'nope'" in unknown.err
    assert "its specs: chat, plain" in unknown.err
    assert endpoint_posts(emulator, "chat") == []  # nothing was run
    globbed = cli("smoke", "--dir", str(specs), "c*")
    assert globbed.code == 0 and "1 smoke test: 1 passed." in globbed.out
    named = cli("smoke", "--dir", str(specs), "plain", "acme/chat", "--format", "json")
    assert named.code == 0, named.text
    document = json.loads(named.out)
    assert document["ok"] is True
    assert [(r["address"], r["result"], r["detail"]) for r in document["results"]] == [
        ("acme/chat", "passed", None),
        ("acme/plain", "not run", "its spec has no smoke: test"),
    ]


def test_smoke_command_fails_for_an_endpoint_that_is_not_live(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}))
    result = cli("smoke", "--dir", str(specs))
    assert result.code == 1
    assert "✗ acme/chat: smoke test failed: no such endpoint: apply the stack first" in result.err


CANARY_TOKEN = "hf_CanaryTokenThatMustNeverBePrinted0123"


def test_the_token_and_secret_values_never_appear_in_smoke_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_emulator: Callable[..., Emulator]
) -> None:
    """The model echoes its input (`return_full_text`), and the input holds the token and a
    secret's value: the failing answer is shown with both blanked."""
    emu = make_emulator(
        users=(UserConfig("demo", (TokenConfig(CANARY_TOKEN),), orgs=("acme",)),),
        orgs=(OrgConfig("acme"),),
    )
    secret = "canary-secret-value-0123456789"
    context = context_for(emu, HF_TOKEN=CANARY_TOKEN, CHAT_API_KEY=secret)
    specs = tmp_path / "endpoints"
    request = {
        "inputs": f"{CANARY_TOKEN} {secret}",
        "parameters": {"max_new_tokens": 2, "return_full_text": True},
    }
    write_spec(
        specs,
        "chat",
        namespace="acme",
        model={"secrets": {"API_KEY": {"from_env": "CHAT_API_KEY"}}},
        smoke={"request": request, "expect": {"status": 201}},
    )
    results = [
        run(capsys, "apply", "--dir", str(specs), "--auto-approve", context=context),
        run(capsys, "smoke", "--dir", str(specs), context=context),
        run(capsys, "smoke", "--dir", str(specs), "--format", "json", context=context),
    ]
    for result in results:
        assert result.code == 1
        assert "smoke test failed: status 200, expected 201" in result.text or (
            '"result": "failed"' in result.text
        )
        assert CANARY_TOKEN not in result.text and secret not in result.text
        assert "*** ***" in result.text  # the echoed input, both values blanked


def test_with_no_wait_the_smoke_tests_are_reported_not_run(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}))
    result = apply(cli, specs, "--no-wait")
    assert result.code == 0, result.text
    assert (
        "  - acme/chat: smoke test not run: apply did not wait for the endpoint to be ready "
        "(--no-wait); run `provisioner smoke`" in result.out
    )
    assert endpoint_posts(emulator, "chat") == []


def test_an_env_value_that_looks_secret_is_blanked_in_a_failing_answer(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    value = "env-secret-value-0123456789"
    specs = tmp_path / "endpoints"
    request = {"inputs": value, "parameters": {"max_new_tokens": 1, "return_full_text": True}}
    write_spec(
        specs,
        "chat",
        namespace="acme",
        model={"env": {"DB_PASSWORD": value}},
        smoke={"request": request, "expect": {"status": 201}},
    )
    for result in (apply(cli, specs), cli("smoke", "--dir", str(specs))):
        assert result.code == 1
        assert 'answer (200): [{"generated_text": "*** ' in result.err
        assert value not in result.text


def test_smoke_tests_read_each_namespace_once_and_run_together(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Three tests on demand: one list call (no GET per endpoint), three requests in flight at
    once (one endpoint's cold start does not hold up the others)."""
    specs = tmp_path / "endpoints"
    for name in ("a", "b", "c"):
        write_spec(specs, name, namespace="acme", smoke=smoke({"keys": ["[0].generated_text"]}))
    assert apply(cli, specs, "--no-smoke").code == 0
    emulator.clear_requests()

    def api_factory(connection: Connection, retrier: Retrier) -> Any:
        return Together(_hub_api(connection, retrier), "post_to_endpoint", expected=3)

    ctx = replace(context_for(emulator), api_factory=api_factory)
    result = cli("smoke", "--dir", str(specs), ctx=ctx)
    assert result.code == 0, result.text
    assert result.out.count("smoke test passed (200)") == 3
    reads = [r["path"] for r in emulator.requests() if r["method"] == "GET"]
    assert [p for p in reads if p.startswith("/v2/endpoint/acme")] == ["/v2/endpoint/acme"]
