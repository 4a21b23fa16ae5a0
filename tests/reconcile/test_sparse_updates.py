"""Updates send only what changed (the service merges a PUT sparsely), never a null, and never
a value that belongs to another configuration (reference section 10, "PUT body")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import apply_ok, hub_commit, live, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def _puts(emulator: Emulator) -> list[dict[str, Any]]:
    return [r["body"] for r in emulator.requests() if r["method"] == "PUT"]


def test_repository_change_never_sends_the_old_repositorys_commit(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    apply_ok(cli, specs)
    old = live(emulator)["svc"]["model"]["revision"]
    write_spec(specs, "svc", namespace="acme", model={"repository": "distilgpt2"})
    emulator.clear_requests()
    apply_ok(cli, specs)
    (put,) = _puts(emulator)
    # The new repository's default-branch commit, resolved when planning: what was reviewed.
    new = hub_commit(emulator, "distilgpt2")
    assert put["model"] == {"repository": "distilgpt2", "revision": new}
    model = live(emulator)["svc"]["model"]
    assert model["repository"] == "distilgpt2"
    assert model["revision"] == new != old
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_one_field_change_sends_only_that_field(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"env": {"A": "1"}})
    apply_ok(cli, specs)
    write_spec(
        specs, "svc", namespace="acme", model={"env": {"A": "1"}}, scaling={"max_replicas": 3}
    )
    emulator.clear_requests()
    apply_ok(cli, specs)
    (put,) = _puts(emulator)
    # The new maximum, and the ownership tags (they carry the digest of the applied spec).
    assert put["compute"] == {"scaling": {"maxReplica": 3}}
    assert set(put) == {"compute", "tags"}


def test_drift_repair_sends_no_tags_and_scaling_up_leaves_the_timeout(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_cli: Callable[..., Any]
) -> None:
    specs = tmp_path / "endpoints"
    zero = {"min_replicas": 0, "max_replicas": 1, "scale_to_zero_timeout": 15}
    write_spec(specs, "svc", namespace="acme", scaling=zero)
    apply_ok(cli, specs)
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 1})
    emulator.clear_requests()
    apply_ok(cli, specs)
    (put,) = _puts(emulator)
    # Never `scaleToZeroTimeout: null`: with min_replicas 1 the timeout is neither sent nor
    # compared.
    assert put["compute"] == {"scaling": {"minReplica": 1}}
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_a_hand_set_hf_token_survives_updates_and_an_env_change_says_it_goes(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "svc", env={"HF_TOKEN": "set-by-hand-value", "A": "1"})
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"env": {"A": "1"}}, adopt=True)
    apply_ok(cli, specs)
    write_spec(
        specs, "svc", namespace="acme", model={"env": {"A": "1"}}, scaling={"max_replicas": 2}
    )
    apply_ok(cli, specs)
    assert live(emulator)["svc"]["model"]["env"] == {"HF_TOKEN": "set-by-hand-value", "A": "1"}
    write_spec(specs, "svc", namespace="acme", model={"env": {"A": "2"}})
    plan = cli("plan", "--dir", str(specs))
    assert "- model.env.HF_TOKEN: (sensitive)" in plan.out  # env is replaced whole: said
    assert "set-by-hand-value" not in plan.text
    apply_ok(cli, specs)
    assert live(emulator)["svc"]["model"]["env"] == {"A": "2"}
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_a_service_injected_hf_token_is_never_a_difference(
    tmp_path: Path,
    cli: Cli,
    make_emulator: Callable[..., Emulator],
) -> None:
    """Third-party reports say the service adds HF_TOKEN to every endpoint's env; the captures
    say it does not. Either way, plans stay clean."""
    emulator = make_emulator(inject_hf_token=True)
    context = context_for(emulator)
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"env": {"A": "1"}})
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=context).code == 0
    write_spec(specs, "svc", namespace="acme", model={"env": {"A": "2"}})
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=context).code == 0
    assert live(emulator)["svc"]["model"]["env"] == {"A": "2", "HF_TOKEN": "***"}
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=context)
    assert plan.code == 0, plan.text
