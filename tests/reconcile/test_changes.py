"""Updates in place, replacements, pause/resume, drift and hardware checks, end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.cli.context import Context
from provisioner.emulator import Emulator
from tests.reconcile.helpers import hub_commit, live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_update_in_place_sends_complete_env_and_converges(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"env": {"A": "1", "B": "2"}})
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(
        specs,
        "svc",
        namespace="acme",
        model={"env": {"A": "1", "C": "3"}, "revision": "v2"},
        scaling={"min_replicas": 1, "max_replicas": 3},
    )
    plan = cli("plan", "--dir", str(specs))
    assert "~ acme/svc: update" in plan.out
    assert "differ from the spec" in plan.out
    v2 = hub_commit(emulator, "gpt2", "v2")
    for line in (
        f"~ model.revision: {hub_commit(emulator, 'gpt2', None)[:7]} -> {v2[:7]} (v2)",
        '- model.env.B: "2"',
        '+ model.env.C: "3"',
        "~ scaling.max_replicas: 1 -> 3",
    ):
        assert line in plan.out
    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    puts = [r for r in emulator.requests() if r["method"] == "PUT"]
    assert len(puts) == 1
    assert puts[0]["body"]["model"]["env"] == {"A": "1", "C": "3"}
    svc = live(emulator)["svc"]
    assert svc["model"]["revision"] == v2  # the commit reviewed, not the tag's name
    assert svc["compute"]["scaling"]["maxReplica"] == 3
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_region_change_replaces_the_endpoint(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", compute={"region": "eu-west-1"})
    plan = cli("plan", "--dir", str(specs))
    assert "-/+ acme/svc: replace" in plan.out
    assert '~ compute.region: "us-east-1" -> "eu-west-1"   # forces replacement' in plan.out
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    kinds = [m for m, _ in mutations(emulator)]
    assert kinds == ["DELETE", "POST"]
    svc = live(emulator)["svc"]
    assert svc["provider"]["region"] == "eu-west-1"
    assert svc["status"]["state"] == "running"
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_pause_and_resume_follow_the_spec(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", state="paused")
    plan = cli("plan", "--dir", str(specs))
    assert "|| acme/svc: pause" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert live(emulator)["svc"]["status"]["state"] == "paused"
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
    # Resumed when the spec says so, then updated to the declared replicas (resuming sets 1/1).
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    plan = cli("plan", "--dir", str(specs))
    assert "~ acme/svc: resume, then update" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    svc = live(emulator)["svc"]
    assert svc["status"]["state"] == "running"
    assert svc["compute"]["scaling"]["maxReplica"] == 2


def test_scaled_to_zero_endpoint_is_running_as_declared(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(
        specs,
        "idle",
        namespace="acme",
        scaling={"min_replicas": 0, "max_replicas": 1, "scale_to_zero_timeout": 15},
    )
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    emulator.advance(16 * 60)
    assert live(emulator)["idle"]["status"]["state"] == "scaledToZero"
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert plan.code == 0
    assert "No changes" in plan.out


@pytest.mark.slow  # runs the `hf` CLI as a process
def test_drift_is_reported_as_changed_outside_and_repaired(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_cli: Callable[..., object]
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    hf_cli("endpoints", "update", "svc", "--namespace", "acme", "--max-replica", "5")
    emulator.advance(60)
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert plan.code == 2
    assert "~ acme/svc: update (changed outside provisioner)" in plan.out
    assert "~ scaling.max_replicas: 5 -> 2" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert live(emulator)["svc"]["compute"]["scaling"]["maxReplica"] == 2
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_hardware_problems_point_at_the_spec(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    size = write_spec(specs, "bad-size", namespace="acme", compute={"instance_size": "x64"})
    kind = write_spec(specs, "bad-type", namespace="acme", compute={"instance_type": "intel-xyz"})
    old = write_spec(specs, "old-cpu", namespace="acme", compute={"instance_type": "intel-icl"})
    region = write_spec(specs, "bad-region", namespace="acme", compute={"region": "mars-1"})
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1
    assert (
        f"{size}:10:18: error: compute.instance_size: intel-spr in aws/us-east-1 comes in"
        in result.err
    )
    assert f"{kind}:9:18: error: compute.instance_type: 'intel-xyz' is not offered" in result.err
    assert (
        f"{old}:9:18: error: compute.instance_type: intel-icl in aws/us-east-1 is deprecated"
        in result.err
    )
    assert f"{region}:7:11: error: compute.region: aws offers no region 'mars-1'" in result.err
    assert mutations(emulator) == []


def test_secrets_are_sent_again_on_request_even_when_unchanged(
    tmp_path: Path, cli: Cli, emulator: Emulator, context: Context
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(
        specs, "svc", namespace="acme", model={"secrets": {"API_KEY": {"from_env": "SVC_KEY"}}}
    )
    context.environ = {**context.environ, "SVC_KEY": "first-value-123"}
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    # The value is the one applied (the state's fingerprint says so): nothing to do...
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
    # ...unless asked to send secrets again (a value changed where the state cannot see it,
    # say by hand on the service).
    plan = cli("plan", "--dir", str(specs), "--resend-secrets")
    assert "secrets sent again (--resend-secrets)" in plan.out
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--resend-secrets")
    assert result.code == 0, result.text
    assert "first-value-123" not in result.text
    (put,) = [r for r in emulator.requests() if r["method"] == "PUT"]
    assert put["body"]["model"]["secrets"] == {"API_KEY": "***"}  # the log redacts values
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_secret_looking_env_values_are_masked_in_plans(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"env": {"OPENAI_API_KEY": "sk-first-111"}})
    validated = cli("validate", "--dir", str(specs))
    assert validated.code == 0
    assert "model.env.OPENAI_API_KEY looks like a secret" in validated.err
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", model={"env": {"OPENAI_API_KEY": "sk-second-22"}})
    plan = cli("plan", "--dir", str(specs))
    assert "~ model.env.OPENAI_API_KEY: (sensitive)" in plan.out
    assert "sk-first-111" not in plan.text and "sk-second-22" not in plan.text
    document = json.loads(cli("plan", "--dir", str(specs), "--json").out)
    (field,) = document["changes"][0]["fields"]
    assert field == {
        "path": "model.env.OPENAI_API_KEY",
        "before": "(sensitive)",
        "after": "(sensitive)",
        "forces_replacement": False,
        "sensitive": True,
    }
    # The whole configuration an update sends is in the JSON too: masked there as well.
    as_json = cli("plan", "--dir", str(specs), "--json").out
    assert "sk-second-22" not in as_json and "sk-first-111" not in as_json
    assert document["changes"][0]["desired"]["env"] == {"OPENAI_API_KEY": "(sensitive)"}
    # A saved plan keeps the value (apply sends exactly what it holds), as validate says.
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    assert "sk-second-22" in saved.read_text()
    assert "kept in clear in the spec and in saved plans" in validated.err


TOKEN_SHAPED = "hf_abcdefghijklmnopqrstuvwx"


def test_a_token_shaped_env_value_under_an_ordinary_name_is_never_printed(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """`FOO: hf_...`: the name says nothing, the value is a Hugging Face token. Plans (text,
    JSON, saved) mask it whether it is being set or replaced, and apply never prints it."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"env": {"FOO": TOKEN_SHAPED}})
    assert "model.env.FOO looks like a secret" in cli("validate", "--dir", str(specs)).err
    for view in ("text", "markdown", "json"):  # a create shows the whole configuration
        created = cli("plan", "--dir", str(specs), "--format", view)
        assert created.code == 0 and TOKEN_SHAPED not in created.text, view
    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert TOKEN_SHAPED not in applied.text
    write_spec(specs, "svc", namespace="acme", model={"env": {"FOO": "plain-value"}})
    saved = tmp_path / "plan.json"
    plan = cli("plan", "--dir", str(specs), "--out", str(saved))
    assert plan.code == 0, plan.text
    assert "~ model.env.FOO: (sensitive)" in plan.out
    as_json = cli("plan", "--dir", str(specs), "--json")
    markdown = cli("plan", "--dir", str(specs), "--format", "markdown")
    assert "(sensitive" in markdown.out
    shown = [cli("show-plan", str(saved), "--format", v).text for v in ("text", "markdown")]
    for text in (plan.text, as_json.text, markdown.text, saved.read_text(), *shown):
        assert TOKEN_SHAPED not in text
    (field,) = json.loads(as_json.out)["changes"][0]["fields"]
    assert field["sensitive"] is True and field["before"] == "(sensitive)"


@pytest.mark.slow  # runs the `hf` CLI as a process
def test_endpoint_scaled_to_zero_by_hand_is_resumed_when_it_must_stay_up(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_cli: Callable[..., object]
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")  # min_replicas 1 by default
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    hf_cli("endpoints", "scale-to-zero", "svc", "--namespace", "acme")
    plan = cli("plan", "--dir", str(specs))
    assert "> acme/svc: resume (changed outside provisioner)" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert live(emulator)["svc"]["status"]["state"] == "running"
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
