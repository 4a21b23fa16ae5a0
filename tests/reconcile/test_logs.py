"""`provisioner logs` and the logs a failed apply shows (issue 23), against the emulator over real
HTTP through the real huggingface_hub: what a user reads, scrubbed of every secret, and a
`--follow` that always ends."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from provisioner.apply.logs import fresh
from provisioner.cli.context import Context
from provisioner.emulator import Durations, Emulator
from tests.reconcile.conftest import SECRET_VALUE, context_for
from tests.reconcile.helpers import write_spec
from tests.support.cli import Result
from tests.support.raw_http import call

Cli = Callable[..., Result]
# A token-shaped value a spec's env holds by mistake: validate warns, and it must never show.
ENV_TOKEN = "hf_EnvCanaryAbCdEfGhIjKlMnOpQrStUv"
# A password in a secret-looking env var, of no recognisable shape: blanked for its name alone.
ENV_PASSWORD = "pa55-canary-in-env-8841"


def on_emulated_time(emu: Emulator, **environ: str) -> Context:
    """`context_for`, with the wall clock the emulator's too (`--since` counts back from it)."""
    return replace(context_for(emu, **environ), now=lambda: emu.clock.wall(emu.now()))


def lines_of(text: str) -> list[str]:
    """The log texts without their time stamps."""
    return [line.split(" ", 1)[1] for line in text.splitlines() if line]


def test_logs_of_a_running_endpoint_by_name_and_by_address(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    result = cli("logs", "svc", "--dir", str(specs))
    assert result.code == 0, result.text
    assert lines_of(result.out)[0] == (
        "Endpoint svc created: intel-spr x2 on aws/us-east-1, replicas 1-1"
    )
    assert lines_of(result.out)[-2:] == ["Health check /health: 200 OK", "Endpoint is ready"]
    assert result.out.startswith(emulator.clock.iso(emulator.now() - 15)[:10])  # its time stamps
    assert cli("logs", "acme/svc", "--dir", str(specs)).out == result.out
    two = cli("logs", "svc", "--dir", str(specs), "--tail", "2")
    assert two.out.splitlines() == result.out.splitlines()[-2:]


def test_since_counts_back_from_now(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    ctx = on_emulated_time(emulator)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    emulator.advance(120)
    assert cli("logs", "svc", "--dir", str(specs), "--since", "1m", ctx=ctx).out == ""
    # Back to 9 s after the create: it was running from 15 s on, initializing from 3 s.
    back = int(emulator.now()) - 9
    recent = cli("logs", "svc", "--dir", str(specs), "--since", f"{back}s", ctx=ctx)
    assert lines_of(recent.out) == [
        "Image pulled",
        "Container started",
        "Health check /health: 200 OK",
        "Endpoint is ready",
    ]
    minutes = cli("logs", "svc", "--dir", str(specs), "--since", "1h", ctx=ctx)
    assert len(lines_of(minutes.out)) == 8
    assert "no log lines" in cli("logs", "svc", "--dir", str(specs), "--since", "1m", ctx=ctx).err


def test_an_unknown_endpoint_and_a_bad_duration_are_errors(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    missing = cli("logs", "svc", "--dir", str(specs))
    assert missing.code == 1
    assert "acme/svc: no such endpoint" in missing.err
    bad = cli("logs", "svc", "--dir", str(specs), "--since", "soon")
    assert bad.code == 1 and "is not a duration" in bad.err


def test_a_failed_deploy_shows_its_last_log_lines_scrubbed_and_the_command_for_more(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme")
    write_spec(
        specs,
        "doomed",
        namespace="acme",
        model={
            "secrets": {"API_KEY": {"from_env": "SUPPORT_ASSISTANT_API_KEY"}},
            "env": {"HUB_TOKEN": ENV_TOKEN, "DB_PASSWORD": ENV_PASSWORD},
        },
    )
    # The container prints its environment as it dies, and colours its error.
    cause = (
        f"API_KEY={SECRET_VALUE} HUB_TOKEN={ENV_TOKEN} DB_PASSWORD={ENV_PASSWORD}\n"
        "\x1b[31mweights not found\x1b[0m"
    )
    emulator.add_fault(
        {"kind": "fail_deploy", "namespace": "acme", "name": "doomed", "message": cause}
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    err = result.err
    assert "✗ acme/doomed: create accepted, but failed to deploy: API_KEY=***" in err
    block = err[err.index("its last 9 log lines:") :]
    shown = [line.strip() for line in block.splitlines()[1:10]]
    assert lines_of("\n".join(shown))[-4:] == [
        "Container started",
        "Error: API_KEY=*** HUB_TOKEN=*** DB_PASSWORD=***",
        "Error: \\x1b[31mweights not found\\x1b[0m",
        "Container exited with code 1: the deployment failed",
    ]
    for canary in (SECRET_VALUE, ENV_TOKEN, ENV_PASSWORD):
        assert canary not in result.text
    assert "\x1b" not in result.text
    hint = f"more: provisioner logs acme/doomed --dir {specs} --api-url {emulator.url}"
    assert hint in err
    # The hint runs as printed (the run's environment and clock, nothing else added).
    again = cli(*shlex.split(hint.removeprefix("more: provisioner ")))
    assert again.code == 0, again.text
    assert lines_of(again.out)[-1] == "Container exited with code 1: the deployment failed"
    assert "Error: API_KEY=*** HUB_TOKEN=*** DB_PASSWORD=***" in again.out
    for canary in (SECRET_VALUE, ENV_TOKEN, ENV_PASSWORD):
        assert canary not in again.text
    assert "\x1b" not in again.out
    # The history keeps the failure's last lines, scrubbed.
    history = cli("history", "--dir", str(specs), "--json")
    record = json.loads(history.out.splitlines()[0])
    assert record["format_version"] == "1.3"
    (failed,) = [a for a in record["actions"] if a["address"] == "acme/doomed"]
    assert failed["outcome"] == "failed"
    assert failed["logs"][-2:] == [
        lines for lines in shown if "weights not found" in lines or "exited" in lines
    ]
    assert len(failed["logs"]) == 5
    for canary in (SECRET_VALUE, ENV_TOKEN, ENV_PASSWORD):
        assert canary not in history.text
    (good,) = [a for a in record["actions"] if a["address"] == "acme/good"]
    assert "logs" not in good
    table = cli("history", "--dir", str(specs)).out
    assert "        | " in table and "Container exited with code 1" in table


def test_a_failed_update_shows_its_cause_from_the_logs(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 3})
    emulator.add_fault(
        {"kind": "fail_update", "namespace": "acme", "name": "svc", "message": "OOM on start"}
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "✗ acme/svc: update accepted, but failed to update: OOM on start" in result.err
    block = result.err[result.err.index("✗ acme/svc") :].splitlines()
    assert "its last 20 log lines:" in block[1]  # a long history: only the last 20
    assert len([line for line in block if line.startswith("      ")]) == 20
    assert block[21].strip().endswith("Container exited with code 1: the update failed")
    assert (
        block[22] == f"    more: provisioner logs acme/svc --dir {specs} --api-url {emulator.url}"
    )


def test_follow_prints_a_deploy_as_it_happens_and_stops_once_it_runs_and_goes_quiet(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve", "--no-wait").code == 0
    started = emulator.now()
    result = cli("logs", "svc", "--dir", str(specs), "--follow")
    assert result.code == 0, result.text
    assert lines_of(result.out) == [
        "Endpoint svc created: intel-spr x2 on aws/us-east-1, replicas 1-1",
        "Waiting for a node to be scheduled",
        "Node scheduled",
        "Pulling image registry.internal.huggingface.tech/hf-endpoints/inference-pytorch:latest",
        "Image pulled",
        "Container started",
        "Health check /health: 200 OK",
        "Endpoint is ready",
    ]  # each line once, in order, though every poll asks again from a minute before
    assert "stopped following acme/svc: it is running and nothing new came for 30 s" in result.err
    waited = emulator.now() - started
    assert 15 + 30 <= waited <= 15 + 30 + 5  # ready at 15 s, then one quiet half-minute


def test_follow_stops_at_its_timeout_while_the_endpoint_is_still_starting(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emu = make_emulator(durations=Durations(initializing=10_000))
    ctx = context_for(emu)
    specs = tmp_path / "endpoints"
    write_spec(specs, "slow", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve", "--no-wait", ctx=ctx).code == 0
    started = emu.now()
    result = cli("logs", "slow", "--dir", str(specs), "--follow", "--follow-timeout", "60", ctx=ctx)
    assert result.code == 0, result.text
    assert "stopped following acme/slow after 60 s (--follow-timeout)" in result.err
    assert emu.now() - started == 60
    assert lines_of(result.out)[-1].startswith("Pulling image")


def test_follow_stops_when_the_endpoint_is_deleted_under_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve", "--no-wait").code == 0
    ticks = []

    def sleep(seconds: float) -> None:
        ticks.append(seconds)
        emulator.advance(seconds)
        if len(ticks) == 2:  # someone deletes it while it starts
            assert call("DELETE", f"{emulator.url}/v2/endpoint/acme/svc").status == 200

    ctx = replace(context_for(emulator), sleep=sleep)
    result = cli("logs", "acme/svc", "--dir", str(specs), "--follow", ctx=ctx)
    assert result.code == 0, result.text
    assert "stopped following acme/svc: it is gone" in result.err
    assert "Delete requested: stopping every replica" in result.out
    assert len(ticks) <= 4


@pytest.mark.parametrize("option", ["--tail", "--follow-timeout"])
def test_out_of_range_numbers_are_refused(
    tmp_path: Path, cli: Cli, emulator: Emulator, option: str
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    result = cli("logs", "svc", "--dir", str(specs), option, "-1")
    assert result.code == 1 and option in result.err


def test_a_megabyte_line_is_cut_and_a_control_character_escaped(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    emulator.add_fault(
        {"kind": "fail_deploy", "namespace": "acme", "name": "svc", "message": "\x9b" + "E" * 10**6}
    )
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 1
    result = cli("logs", "svc", "--dir", str(specs), "--tail", "2")
    assert result.code == 0, result.text
    first = result.out.splitlines()[0]
    assert first.endswith("more characters cut]") and len(first) < 4100
    assert "\\x9b" in first and "\x9b" not in result.out


@pytest.mark.parametrize(
    ("seen", "batch", "new"),
    [
        ([], ["a", "b"], ["a", "b"]),
        (["a", "b"], ["a", "b", "c"], ["c"]),
        (["x", "a", "b"], ["b", "c"], ["c"]),  # asked from later: only the end overlaps
        (["a"], ["b", "c"], ["b", "c"]),  # nothing in common: all new
        (["b", "a"], ["a", "b", "a", "c"], ["c"]),  # the last place the lines seen end
        (["a", "b"], ["a", "b"], []),
    ],
)
def test_new_lines_are_told_from_those_handed_on_by_where_those_end(
    seen: list[str], batch: list[str], new: list[str]
) -> None:
    assert fresh(seen, batch) == new


def test_logs_that_cannot_be_read_are_a_warning_and_the_failure_is_reported_all_the_same(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "doomed", namespace="acme")
    emulator.add_fault(
        {"kind": "fail_deploy", "namespace": "acme", "name": "doomed", "message": "bad weights"}
    )
    emulator.add_fault(
        {
            "kind": "http",
            "method": "GET",
            "path": "/v2/endpoint/acme/doomed/logs",
            "status": 403,
            "message": "logs are not for you",
        }
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        "warning: acme/doomed: its logs could not be read: logs of acme/doomed: 403" in result.err
    )
    assert "✗ acme/doomed: create accepted, but failed to deploy: bad weights" in result.err
    assert "log lines:" not in result.err
