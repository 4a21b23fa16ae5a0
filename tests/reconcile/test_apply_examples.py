"""The examples, applied end to end through the real client against the emulator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.helpers import api_calls, live, mutations
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_plan_then_apply_then_plan_is_empty(specs: Path, cli: Cli, emulator: Emulator) -> None:
    before = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert before.code == 2
    assert "Plan: 5 to create" in before.out
    assert mutations(emulator) == []

    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert "Apply complete: 5 created." in applied.out

    endpoints = live(emulator)
    states = {name: e["status"]["state"] for name, e in endpoints.items()}
    assert states == {
        "dialogpt-chat": "paused",
        "flan-t5-summarizer": "running",
        "review-sentiment": "running",
        "search-embeddings": "running",
        "support-assistant": "running",
    }
    after = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert after.code == 0, after.text
    assert "No changes: 5 endpoints match their specs." in after.out


def test_plan_reads_with_one_list_per_namespace(specs: Path, cli: Cli, emulator: Emulator) -> None:
    cli("apply", "--dir", str(specs), "--auto-approve")
    emulator.clear_requests()
    assert cli("plan", "--dir", str(specs)).code == 0
    calls = Counter(api_calls(emulator))
    # whoami once; each namespace the token can use listed once; hardware for the specs' one.
    assert calls == Counter(
        {
            ("GET", "/api/whoami-v2"): 1,
            ("GET", "/v2/endpoint/acme"): 1,
            ("GET", "/v2/endpoint/demo"): 1,
            ("GET", "/v2/provider/acme"): 1,
        }
    )


def test_created_endpoints_carry_ownership_and_protection(
    specs: Path, cli: Cli, emulator: Emulator
) -> None:
    cli("apply", "--dir", str(specs), "--auto-approve")
    endpoints = live(emulator)
    llm = endpoints["support-assistant"]
    assert "provisioner-stack-acme-inference" in llm["tags"]
    assert "provisioner-protected" in llm["tags"]
    assert {"env-prod", "team-support"} <= set(llm["tags"])
    assert "provisioner-protected" not in endpoints["flan-t5-summarizer"]["tags"]
    # The secret reached the service (its key), never its value in any output.
    assert set(llm["model"]["secrets"]) == {"VLLM_API_KEY"}
    assert llm["model"]["image"]["vLLM"]["maxModelLen"] == 8192


def test_status_shows_the_fleet(specs: Path, cli: Cli) -> None:
    cli("apply", "--dir", str(specs), "--auto-approve")
    status = cli("status", "--dir", str(specs))
    assert status.code == 0
    lines = {line.split()[0]: line for line in status.out.splitlines()[1:6]}
    assert "paused" in lines["acme/dialogpt-chat"]
    assert "running" in lines["acme/support-assistant"]
    assert "/endpoints/acme/support-assistant" in lines["acme/support-assistant"]
    assert "5 endpoints; all in sync." in status.out


def test_apply_without_terminal_needs_auto_approve(
    specs: Path, cli: Cli, emulator: Emulator
) -> None:
    result = cli("apply", "--dir", str(specs))
    assert result.code == 1
    assert "--auto-approve" in result.err
    assert mutations(emulator) == []


def test_missing_secret_refuses_only_the_endpoint_that_needs_it(
    specs: Path, cli: Cli, emulator: Emulator, context
) -> None:  # type: ignore[no-untyped-def]
    environ = dict(context.environ)
    del environ["SUPPORT_ASSISTANT_API_KEY"]
    context.environ = environ
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        "acme/support-assistant: not applied (nothing sent): secret VLLM_API_KEY needs "
        "environment variable "
        "SUPPORT_ASSISTANT_API_KEY, which is not set" in result.err
    )
    assert "4 created; 1 refused (nothing sent)" in result.err
    assert "support-assistant" not in live(emulator)
    assert len(live(emulator)) == 4
