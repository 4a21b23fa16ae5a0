"""Pause semantics end to end, as the official guide documents them: pausing sets min and max
replicas to 0, resuming sets them to 1, and an update carrying replica counts pauses (0) or
resumes (>= 1) an endpoint. A paused spec must plan clean over its paused endpoint, and an
update must never resume an endpoint the spec keeps paused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import apply_ok, live, mutations, plans_clean, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]

SCALING = {"min_replicas": 2, "max_replicas": 3}


def _puts(emu: Emulator) -> list[dict[str, Any]]:
    return [r["body"] for r in emu.requests() if r["method"] == "PUT"]


def _counts(body: dict[str, Any]) -> list[int]:
    """The replica counts a PUT body carries (none, or some of minReplica / maxReplica)."""
    scaling = body.get("compute", {}).get("scaling", {})
    return [scaling[k] for k in ("minReplica", "maxReplica") if k in scaling]


def test_paused_spec_applied_twice_plans_clean(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", state="paused", scaling=SCALING)
    plan = cli("plan", "--dir", str(specs))
    assert "+ acme/svc: create, then pause" in plan.out
    apply_ok(cli, specs)
    svc = live(emulator)["svc"]
    assert svc["status"]["state"] == "paused"
    scaling = svc["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (0, 0)
    # The declared 2/3 against the live 0/0 is not a change while the spec says paused.
    plans_clean(cli, specs)
    apply_ok(cli, specs)
    assert mutations(emulator) == []
    plans_clean(cli, specs)


def test_paused_by_hand_is_resumed_then_the_declared_replicas_restored(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_cli: Callable[..., object]
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", scaling=SCALING)
    apply_ok(cli, specs)
    hf_cli("endpoints", "pause", "svc", "--namespace", "acme")
    emulator.clear_requests()
    plan = cli("plan", "--dir", str(specs))
    assert "~ acme/svc: resume, then update (changed outside provisioner)" in plan.out
    # Compared with what resuming leaves (1/1), not with the paused 0/0.
    assert "~ scaling.min_replicas: 1 -> 2" in plan.out
    assert "~ scaling.max_replicas: 1 -> 3" in plan.out
    apply_ok(cli, specs)
    assert mutations(emulator) == [
        ("POST", "/v2/endpoint/acme/svc/resume"),
        ("PUT", "/v2/endpoint/acme/svc"),
    ]
    (put,) = _puts(emulator)
    assert put["compute"]["scaling"]["minReplica"] == 2
    assert put["compute"]["scaling"]["maxReplica"] == 3
    svc = live(emulator)["svc"]
    assert svc["status"]["state"] == "running"
    scaling = svc["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (2, 3)
    plans_clean(cli, specs)


def test_resume_alone_when_the_declared_replicas_are_what_resuming_sets(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_cli: Callable[..., object]
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")  # 1/1 by default
    apply_ok(cli, specs)
    hf_cli("endpoints", "pause", "svc", "--namespace", "acme")
    emulator.clear_requests()
    apply_ok(cli, specs)
    assert mutations(emulator) == [("POST", "/v2/endpoint/acme/svc/resume")]
    assert live(emulator)["svc"]["status"]["state"] == "running"
    plans_clean(cli, specs)


def test_env_edit_on_a_paused_endpoint_keeps_it_paused(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", state="paused", scaling=SCALING)
    apply_ok(cli, specs)
    write_spec(
        specs, "svc", namespace="acme", state="paused", scaling=SCALING, model={"env": {"A": "1"}}
    )
    plan = cli("plan", "--dir", str(specs))
    assert "~ acme/svc: update\n" in plan.out
    assert "scaling." not in plan.out
    emulator.clear_requests()
    apply_ok(cli, specs)
    assert mutations(emulator) == [("PUT", "/v2/endpoint/acme/svc")]
    (put,) = _puts(emulator)
    assert all(count == 0 for count in _counts(put)), put  # counts >= 1 would resume it
    emulator.advance(3600)
    svc = live(emulator)["svc"]
    assert svc["status"]["state"] == "paused"
    assert svc["model"]["env"]["A"] == "1"
    plans_clean(cli, specs)


def test_pausing_with_other_changes_pauses_first_and_the_update_keeps_it_paused(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", scaling=SCALING)
    apply_ok(cli, specs)
    write_spec(
        specs, "svc", namespace="acme", state="paused", scaling=SCALING, model={"env": {"A": "1"}}
    )
    plan = cli("plan", "--dir", str(specs))
    assert "~ acme/svc: pause, then update" in plan.out
    emulator.clear_requests()
    apply_ok(cli, specs)
    assert mutations(emulator) == [
        ("POST", "/v2/endpoint/acme/svc/pause"),
        ("PUT", "/v2/endpoint/acme/svc"),
    ]
    (put,) = _puts(emulator)
    assert all(count == 0 for count in _counts(put)), put
    emulator.advance(3600)
    svc = live(emulator)["svc"]
    assert svc["status"]["state"] == "paused"
    assert svc["model"]["env"]["A"] == "1"
    plans_clean(cli, specs)
    # Declared running again: resumed, then back to the declared 2/3.
    write_spec(specs, "svc", namespace="acme", scaling=SCALING, model={"env": {"A": "1"}})
    apply_ok(cli, specs)
    svc = live(emulator)["svc"]
    assert svc["status"]["state"] == "running"
    scaling = svc["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (2, 3)
    plans_clean(cli, specs)


def test_importing_a_paused_endpoint_writes_a_valid_paused_spec_that_keeps_it_paused(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    api = hub_for(emulator)
    unmanaged(api, "legacy", task="text-generation", min_replica=1, max_replica=2)
    api.pause_inference_endpoint("legacy", namespace="acme")
    specs = tmp_path / "endpoints"
    specs.mkdir()
    (specs / "_settings.yaml").write_text("stack: legacy\nnamespace: acme\n")
    imported = cli("import", "legacy", "--dir", str(specs))
    assert imported.code == 0, imported.text
    text = (specs / "legacy.yaml").read_text()
    assert "state: paused" in text
    assert "replicas" not in text  # the paused 0/0 is not a spec's choice (nor valid in one)
    assert cli("validate", "--dir", str(specs)).code == 0
    emulator.clear_requests()
    apply_ok(cli, specs)  # adopts it: the tags only, and it stays paused
    (put,) = _puts(emulator)
    assert all(count == 0 for count in _counts(put)), put
    assert live(emulator)["legacy"]["status"]["state"] == "paused"
    plans_clean(cli, specs)


def test_a_service_that_refuses_updates_while_starting_gets_the_update_once_it_runs(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    """Whether the service takes a PUT right after a resume is unknown: the update is sent at
    once, as with the default emulator above; refused (409) while the endpoint starts, it is
    sent again once it runs, and the endpoint ends with the declared replicas."""
    emulator = make_emulator(refuse_updates_while_starting=True)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", scaling=SCALING)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    hub_for(emulator).pause_inference_endpoint("svc", namespace="acme")
    emulator.clear_requests()
    applied = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert applied.code == 0, applied.text
    sent = [(r["method"], r["path"], r["status"]) for r in emulator.requests()]
    writes = [s for s in sent if s[0] in ("POST", "PUT")]
    assert writes[0] == ("POST", "/v2/endpoint/acme/svc/resume", 200)
    assert writes[1] == ("PUT", "/v2/endpoint/acme/svc", 409)
    assert writes[-1] == ("PUT", "/v2/endpoint/acme/svc", 200)
    svc = live(emulator)["svc"]
    assert svc["status"]["state"] == "running"
    scaling = svc["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (2, 3)
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx).code == 0
