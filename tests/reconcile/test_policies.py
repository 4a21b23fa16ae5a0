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
