"""`HubApi.model_commit`: the Hub's model info through huggingface_hub, its errors as the
project's own types, retried like every other call; and the plan workflow asking once per
(repository, revision)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from provisioner.apply.workflow import plan_stack
from provisioner.emulator import Emulator
from provisioner.hub.client import HubApi, resolve_connection
from provisioner.hub.errors import AuthError, NotFound, UnknownRevision
from provisioner.hub.retry import Retrier
from provisioner.spec.stack import load_stack
from tests.reconcile.helpers import hub_commit, write_spec


def connect(emu: Emulator) -> HubApi:
    retrier = Retrier(sleep=emu.advance, clock=emu.now, rng=random.Random(0))
    return HubApi(resolve_connection(emu.url, {"HF_TOKEN": "hf_demo"}), retrier)


def test_commits_and_errors(emulator: Emulator) -> None:
    api = connect(emulator)
    main = api.model_commit("gpt2", None)
    assert api.model_commit("gpt2", "main") == main == hub_commit(emulator, "gpt2")
    assert api.model_commit("gpt2", "dev") != main
    with pytest.raises(UnknownRevision, match="no such revision"):
        api.model_commit("gpt2", "no-such-branch")
    with pytest.raises(NotFound, match="Repository not found"):
        api.model_commit("acme/private-model", None)
    with pytest.raises(AuthError):
        api.model_commit("acme/gated-model", None)


def test_a_transient_model_info_failure_is_retried(emulator: Emulator) -> None:
    emulator.add_fault({"kind": "http", "method": "GET", "path": "/api/models/*", "status": 503})
    assert connect(emulator).model_commit("gpt2", None) == hub_commit(emulator, "gpt2")
    statuses = [r["status"] for r in emulator.requests() if r["path"] == "/api/models/gpt2"]
    assert statuses[:2] == [503, 200]


def test_plan_resolves_each_repository_and_revision_once(
    emulator: Emulator, tmp_path: Path
) -> None:
    specs = tmp_path / "endpoints"
    for name in ("a", "b"):
        write_spec(specs, name, namespace="acme", model={"revision": "main"})
    write_spec(specs, "c", namespace="acme")
    stack, _ = load_stack(specs)
    api = connect(emulator)
    emulator.clear_requests()
    planned = plan_stack(stack, api, api.identity())
    asked = sorted(r["path"] for r in emulator.requests() if r["path"].startswith("/api/models"))
    assert asked == ["/api/models/gpt2", "/api/models/gpt2/revision/main"]
    main = hub_commit(emulator, "gpt2")
    assert {c.desired.revision for c in planned.plan.changes if c.desired} == {main}
