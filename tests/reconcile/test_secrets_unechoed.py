"""Secret names the service may not echo: whether the real API returns `model.secrets` is unknown
(reference section 9), so a response without it means "not said", never "no secrets". Plans
stay clean in that world; an added secret key is seen from the names the state recorded, and
where the service does echo them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def _secrets(*keys: str) -> dict[str, Any]:
    return {"secrets": {key: {"from_env": f"VALUE_OF_{key}"} for key in keys}}


def _puts(emulator: Emulator) -> list[dict[str, Any]]:
    return [r["body"] for r in emulator.requests() if r["method"] == "PUT"]


def test_secrets_the_service_does_not_echo_apply_and_then_plan_clean(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = make_emulator(omit_secrets=True)
    ctx = context_for(emulator, VALUE_OF_K="k-value-1234", VALUE_OF_L="l-value-5678")
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model=_secrets("K"))
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    (create,) = [r for r in emulator.requests() if r["method"] == "POST"]
    assert create["body"]["model"]["secrets"] == {"K": "***"}  # sent on create (log redacts)
    emulator.clear_requests()
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 0, plan.text
    assert "model.secrets" not in plan.out
    # The names are compared with those the state recorded, not with the response: a new key
    # is a change although the service never says which keys it holds.
    write_spec(specs, "svc", namespace="acme", model=_secrets("K", "L"))
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 2
    assert "+ model.secrets.L: (sensitive)" in plan.out
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert result.code == 0, result.text
    (put,) = _puts(emulator)
    assert put["model"]["secrets"] == {"K": "***", "L": "***"}
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx).code == 0


def test_an_added_secret_key_is_a_change_where_the_service_echoes_names(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = make_emulator()
    ctx = context_for(emulator, VALUE_OF_K="k-value-1234", VALUE_OF_L="l-value-5678")
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model=_secrets("K"))
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx).code == 0
    write_spec(specs, "svc", namespace="acme", model=_secrets("K", "L"))
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 2
    assert "+ model.secrets.L: (sensitive)" in plan.out
    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    (put,) = _puts(emulator)
    assert put["model"]["secrets"] == {"K": "***", "L": "***"}
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx).code == 0


def test_fields_after_unechoed_secrets_are_still_compared(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    """Secret names the service does not say are skipped, not the rest of the endpoint: a
    change to a field after them in the table (command, hardware, scaling) is still planned."""
    emulator = make_emulator(omit_secrets=True)
    ctx = context_for(emulator, VALUE_OF_K="k-value-1234")
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model=_secrets("K"))
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    write_spec(specs, "svc", namespace="acme", model=_secrets("K"), scaling={"max_replicas": 3})
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 2, plan.text
    assert "~ acme/svc: update" in plan.out and "scaling.max_replicas" in plan.out
