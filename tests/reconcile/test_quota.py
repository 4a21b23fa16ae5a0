"""Quota at plan time: a plan that would overrun a namespace's accelerator quota is an error at
the spec line that asks for it, counted as the service counts (accelerators x max replicas per
vendor and instance type; paused endpoints hold none; what the plan frees counts)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, write_spec
from tests.support.cli import Result
from tests.support.hostile import ListingProxy

Cli = Callable[..., Result]

T4 = {"accelerator": "gpu", "instance_type": "nvidia-t4", "instance_size": "x1"}


def _quota(make_emulator: Callable[..., Emulator], limit: int) -> Emulator:
    return make_emulator(quotas={"acme": {"aws": {"nvidia-t4": limit}}})


def _gpu(directory: Path, name: str, *, max_replicas: int, **fields: Any) -> Path:
    compute = {**T4, **fields.pop("compute", {})}
    return write_spec(
        directory,
        name,
        namespace="acme",
        compute=compute,
        scaling={"min_replicas": 1, "max_replicas": max_replicas},
        **fields,
    )


def _line_of(path: Path, key: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(f"{key}:"))


def test_a_create_over_quota_is_a_plan_error_at_its_instance_type(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = _quota(make_emulator, 2)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    path = _gpu(specs, "big", max_replicas=3)
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert plan.code == 1, plan.text
    where = f"{path}:{_line_of(path, 'instance_type')}:"
    assert (
        f"{where}" in plan.err
        and "error: compute.instance_type: quota exceeded for nvidia-t4 on aws in namespace "
        "acme: 0 of 2 accelerators in use, this plan adds 3"
        in plan.err
    ), plan.err
    assert "apply refuses this plan before sending anything" in plan.err
    applied = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert applied.code == 1
    assert "apply refuses this plan before sending anything" in applied.err
    assert mutations(emulator) == []  # refused before anything was sent, as the plan said


def test_creates_that_fit_alone_but_not_together_are_each_named(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    ctx = context_for(_quota(make_emulator, 3))
    specs = tmp_path / "endpoints"
    _gpu(specs, "one", max_replicas=2)
    _gpu(specs, "two", max_replicas=2)
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert plan.code == 1
    assert "0 of 3 accelerators in use, this plan adds 4 (2 of them for acme/one)" in plan.err
    assert "this plan adds 4 (2 of them for acme/two)" in plan.err


def test_raising_max_replicas_over_quota_points_at_max_replicas(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = _quota(make_emulator, 3)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    _gpu(specs, "svc", max_replicas=2)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    path = _gpu(specs, "svc", max_replicas=4)
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert plan.code == 1
    assert f"{path}:{_line_of(path, 'max_replicas')}:" in plan.err
    assert (
        "scaling.max_replicas: quota exceeded for nvidia-t4 on aws in namespace acme: "
        "2 of 3 accelerators in use, this plan adds 2" in plan.err
    )
    _gpu(specs, "svc", max_replicas=3)  # exactly fills it
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert live(emulator)["svc"]["compute"]["scaling"]["maxReplica"] == 3


def test_a_replacement_counts_the_quota_it_frees(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    """Quota is per vendor and instance type, not per region: moving a full quota's endpoint to
    another region frees what it takes."""
    emulator = _quota(make_emulator, 2)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    _gpu(specs, "svc", max_replicas=2)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    _gpu(specs, "svc", max_replicas=2, compute={"region": "eu-west-1"})
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert plan.code == 0, plan.text
    assert "-/+ acme/svc: replace" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert live(emulator)["svc"]["provider"]["region"] == "eu-west-1"


def test_a_delete_in_the_same_plan_frees_its_quota(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = _quota(make_emulator, 2)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    old = _gpu(specs, "old", max_replicas=2)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    old.unlink()
    _gpu(specs, "new", max_replicas=2)
    # The stack's only endpoint goes: the mass-deletion guard wants that said.
    plan = cli("plan", "--dir", str(specs), "--allow-mass-delete", ctx=ctx)
    assert plan.code == 0, plan.text
    applied = cli("apply", "--dir", str(specs), "--auto-approve", "--allow-mass-delete", ctx=ctx)
    assert applied.code == 0, applied.text
    assert set(live(emulator)) == {"new"}


def test_a_paused_endpoint_holds_no_quota_until_it_is_resumed(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = _quota(make_emulator, 2)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    _gpu(specs, "sleeper", max_replicas=2, state="paused")
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    _gpu(specs, "awake", max_replicas=2)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    path = _gpu(specs, "sleeper", max_replicas=2, state="running")
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert plan.code == 1
    assert f"{path}:{_line_of(path, 'instance_type')}:" in plan.err
    assert "2 of 2 accelerators in use, this plan adds 2" in plan.err


def test_a_targeted_plan_counts_only_what_its_targets_add(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = _quota(make_emulator, 2)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    _gpu(specs, "small", max_replicas=1)
    _gpu(specs, "big", max_replicas=3)
    whole = cli("plan", "--dir", str(specs), ctx=ctx)
    assert whole.code == 1 and "this plan adds 4" in whole.err
    small = cli("apply", "--dir", str(specs), "--auto-approve", "--target", "small", ctx=ctx)
    assert small.code == 0, small.text
    assert sorted(live(emulator)) == ["small"]
    big = cli("plan", "--dir", str(specs), "--target", "big", ctx=ctx)
    assert big.code == 1
    assert "1 of 2 accelerators in use, this plan adds 3" in big.err


def test_the_unit_is_named_and_allow_over_quota_lets_the_service_decide(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    """provisioner's count is its reading of the quota: the error says so, and
    `--allow-over-quota` makes it a warning, so that a service that counts otherwise (here the
    listing's quota is stale: the service itself would take it) decides; one that refuses is
    reported for its endpoint."""
    emulator = _quota(make_emulator, 2)
    specs = tmp_path / "endpoints"
    _gpu(specs, "big", max_replicas=2)

    def stale(listing: Any) -> Any:  # the listing says 2 in use: a plan adding 2 is over
        for vendor in listing["vendors"]:
            for region in vendor["regions"]:
                for row in region["computes"]:
                    if row["instanceType"] == "nvidia-t4":
                        row["quota"]["usedAccelerators"] = 2
        return listing

    with ListingProxy(emulator.url).running() as proxy:
        proxy.rewrite["/v2/provider/acme"] = stale
        ctx = context_for(emulator, PROVISIONER_API_URL=proxy.url)
        plan = cli("plan", "--dir", str(specs), ctx=ctx)
        assert plan.code == 1, plan.text
        assert "adds 2, counted as accelerators per replica x max_replicas (provisioner's" in (
            plan.err
        )
        assert "`--allow-over-quota` lets it decide" in plan.err
        allowed = cli("plan", "--dir", str(specs), "--allow-over-quota", ctx=ctx)
        assert allowed.code == 0, allowed.text
        assert "warning: compute.instance_type: quota exceeded" in allowed.err
        assert "applied anyway (--allow-over-quota)" in allowed.err
        # --no-wait: the endpoint's URL is the emulator's, not the proxy's (no token goes there)
        applied = cli(
            "apply", "--dir", str(specs), "--auto-approve", "--allow-over-quota", "--no-wait",
            ctx=ctx,
        )  # fmt: skip
    assert applied.code == 0, applied.text
    assert "big" in live(emulator)


def test_allow_over_quota_against_a_service_that_refuses_reports_it_per_endpoint(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = _quota(make_emulator, 2)
    ctx = context_for(emulator)
    specs = tmp_path / "endpoints"
    _gpu(specs, "big", max_replicas=3)
    applied = cli("apply", "--dir", str(specs), "--auto-approve", "--allow-over-quota", ctx=ctx)
    assert applied.code == 1, applied.text
    assert "acme/big" in applied.err and "409" in applied.err, applied.err
    assert "big" not in live(emulator)
