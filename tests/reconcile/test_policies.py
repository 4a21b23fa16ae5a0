"""Policies against the emulator: a spec that breaks one stops `plan` and `apply` before their
first request (not only before the first change), while `status`, `destroy` and `release`,
which deploy nothing, still reach an endpoint that breaks one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.helpers import api_calls, apply_ok, live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
POLICIES = "policies:\n  regions: [us-east-1]\n  forbid_public: true\n  max_replicas: 2\n"


def _stack(specs: Path, *, policies: str = "") -> None:
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\n" + policies)


def test_plan_and_apply_stop_before_any_request(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _stack(specs, policies=POLICIES)
    write_spec(specs, "ok")
    write_spec(specs, "eu", compute={"region": "eu-west-1"}, type="public")
    write_spec(specs / "big", "big", scaling={"max_replicas": 5})
    emulator.clear_requests()

    commands = (
        ("plan",),
        ("plan", "--out", str(tmp_path / "p.json")),
        ("apply", "--auto-approve"),
    )
    for command in commands:
        result = cli(*command, "--dir", str(specs))
        assert result.code == 1, result.text
        assert result.err.splitlines()[-1] == "3 errors", result.err
        assert (
            "eu.yaml:7:11: error: compute.region: 'eu-west-1' is not allowed by "
            "policies.regions (allowed: us-east-1)"
        ) in result.err
        assert "type: 'public' is not allowed by policies.forbid_public" in result.err
        assert "scaling.max_replicas: 5 is more than policies.max_replicas allows (at most 2)" in (
            result.err
        )
        assert api_calls(emulator) == []  # not even the valid spec's listing
    assert not (tmp_path / "p.json").exists()
    assert live(emulator) == {}


def test_an_endpoint_breaking_a_new_policy_can_still_be_seen_released_and_destroyed(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _stack(specs)
    write_spec(specs, "pub", type="public")
    write_spec(specs, "other", type="public")
    apply_ok(cli, specs)
    _stack(specs, policies=POLICIES)  # the organisation tightens the rules afterwards
    emulator.clear_requests()

    plan = cli("plan", "--dir", str(specs))
    assert plan.code == 1
    assert "pub.yaml" in plan.err and api_calls(emulator) == []

    status = cli("status", "--dir", str(specs))
    assert status.code == 0, status.text
    assert "pub" in status.out

    (specs / "other.yaml").unlink()
    released = cli("release", "other", "--dir", str(specs), "--auto-approve")
    assert released.code == 0, released.text

    destroyed = cli("destroy", "--dir", str(specs), "--auto-approve")
    assert destroyed.code == 0, destroyed.text
    assert ("DELETE", "/v2/endpoint/acme/pub") in mutations(emulator)
    assert set(live(emulator)) == {"other"}


GPU = {
    "accelerator": "gpu",
    "instance_type": "nvidia-l4",
    "instance_size": "x1",
}


def test_cost_policies_refuse_an_endpoint_or_a_stack_over_budget_before_any_change(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Prices come from the namespace's hardware list (nvidia-l4 x1: $584.00 a month per
    replica in the emulator), counted at max_replicas: a limit checked by plan and apply."""
    specs = tmp_path / "endpoints"
    _stack(specs, policies="policies:\n  max_monthly_cost_per_endpoint: 1000\n")
    write_spec(specs, "cheap")
    spec = write_spec(specs, "gpu", compute=GPU, scaling={"min_replicas": 1, "max_replicas": 2})
    emulator.clear_requests()
    for command in (("plan",), ("apply", "--auto-approve")):
        result = cli(*command, "--dir", str(specs))
        assert result.code == 1, result.text
        assert (
            f"{spec}:1:7: error: acme/gpu would cost up to $1,168.00 a month at max_replicas, "
            "more than policies.max_monthly_cost_per_endpoint allows ($1,000.00)"
        ) in result.err
    assert mutations(emulator) == []
    # Within the limit at one replica: it applies.
    write_spec(specs, "gpu", compute=GPU, scaling={"min_replicas": 1, "max_replicas": 1})
    apply_ok(cli, specs)

    # A stack limit counts every endpoint together.
    _stack(specs, policies="policies:\n  max_monthly_cost: 600\n")
    write_spec(specs, "more", compute={"instance_size": "x4"})
    over = cli("plan", "--dir", str(specs))
    assert over.code == 1
    assert "more than policies.max_monthly_cost allows ($600.00)" in over.err
    assert f"{specs / '_settings.yaml'}:1:1: error: stack 'team' would cost up to $" in over.err
