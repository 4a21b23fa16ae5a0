"""The monthly cost of each change, against the emulator's price list (`cases/plan/provider.json`,
itself checked against the emulator): replicas x price per replica-hour x 730 h."""

from __future__ import annotations

from dataclasses import replace

import pytest

from provisioner.hub.models import Config, EndpointState, Fleet, Image, LiveEndpoint
from provisioner.plan.cost import HOURS_PER_MONTH, Range
from provisioner.plan.estimate import totals, with_costs
from provisioner.plan.model import Action, Plan, ResourceChange, ScheduleNote, Seen
from tests.plan.test_plan_cases import ROOT, fleet_from

NS = "acme"
CPU = Config(
    repository="gpt2",
    framework="pytorch",
    image=Image("huggingface"),
    vendor="aws",
    region="us-east-1",
    accelerator="cpu",
    instance_type="intel-spr",
    instance_size="x2",  # $0.067 an hour in the emulator's list
    min_replica=1,
    max_replica=3,
    type="authenticated",
)
L4 = replace(CPU, accelerator="gpu", instance_type="nvidia-l4", instance_size="x1")  # $0.80
A100 = replace(CPU, accelerator="gpu", instance_type="nvidia-a100", instance_size="x4")  # $10


@pytest.fixture(scope="module")
def hardware() -> Fleet:
    # Only the hardware listing of a case (the emulator's price list), for namespace acme.
    listed = fleet_from(ROOT / "examples-create" / "live.json").hardware
    rows = next(iter(listed.values()))
    return Fleet(hardware={NS: rows})


def _live(name: str, config: Config, state: EndpointState = EndpointState.RUNNING) -> LiveEndpoint:
    return LiveEndpoint(NS, name, config, state)


def _change(
    name: str, action: Action, desired: Config | None = None, **kw: object
) -> ResourceChange:
    steps = kw.pop("steps", (action,))
    return ResourceChange(
        NS,
        name,
        action,
        (),
        Seen(exists=action is not Action.CREATE),
        steps=steps,  # type: ignore[arg-type]
        desired=desired,
        **kw,  # type: ignore[arg-type]
    )


def _plan(fleet: Fleet, live: list[LiveEndpoint], *changes: ResourceChange) -> Plan:
    fleet = replace(fleet, endpoints={NS: tuple(live)})
    return with_costs(Plan("s", changes=changes), fleet)


def test_a_month_is_730_hours_of_each_replica(hardware: Fleet) -> None:
    plan = _plan(hardware, [], _change("new", Action.CREATE, CPU))
    cost = plan.changes[0].cost
    assert cost is not None and cost.before is None
    assert cost.monthly_before == Range(0, 0)
    # 1..3 replicas x $0.067 x 730 h
    assert cost.monthly_after == Range(48.91, 146.73)
    assert cost.delta == Range(48.91, 146.73)
    assert HOURS_PER_MONTH == 730


def test_gpu_upgrade_before_and_after_and_delta(hardware: Fleet) -> None:
    up = replace(A100, min_replica=1, max_replica=2)
    plan = _plan(
        hardware,
        [_live("llm", replace(L4, min_replica=1, max_replica=1))],
        _change("llm", Action.UPDATE, up),
    )
    cost = plan.changes[0].cost
    assert cost is not None
    assert cost.monthly_before == Range(584.0, 584.0)  # 1 x $0.80 x 730
    assert cost.monthly_after == Range(7300.0, 14600.0)  # 1..2 x $10 x 730
    assert cost.delta == Range(6716.0, 14016.0)
    assert (cost.before and cost.before.gpus, cost.after and cost.after.gpus) == (1, 8)


def test_scale_to_zero_floors_at_zero_and_paused_costs_nothing(hardware: Fleet) -> None:
    stz = replace(L4, min_replica=0, max_replica=2)
    plan = _plan(
        hardware,
        [_live("a", stz), _live("b", stz)],
        _change("a", Action.NOOP),
        _change("b", Action.PAUSE),
        _change("c", Action.CREATE, stz, steps=(Action.CREATE, Action.PAUSE)),
    )
    a, b, c = (change.cost for change in plan.changes)
    assert a is not None and b is not None and c is not None
    assert a.monthly_before == a.monthly_after == Range(0.0, 1168.0)
    assert b.monthly_after == Range(0, 0) and b.delta == Range(0.0, -1168.0)
    assert c.monthly_after == Range(0, 0)  # created, then paused at once


def test_deleting_and_resuming(hardware: Fleet) -> None:
    plan = _plan(
        hardware,
        [
            _live("gone", CPU),
            _live("back", replace(L4, min_replica=0, max_replica=0), EndpointState.PAUSED),
        ],
        _change("gone", Action.DELETE),
        _change("back", Action.RESUME),
    )
    gone, back = (change.cost for change in plan.changes)
    assert gone is not None and back is not None
    assert gone.monthly_after == Range(0, 0) and gone.delta == Range(-48.91, -146.73)
    assert back.monthly_before == Range(0, 0)
    assert back.monthly_after == Range(584.0, 584.0)  # resumed at 1/1


def test_unknown_price_is_unknown_never_zero(hardware: Fleet) -> None:
    gone = replace(CPU, instance_type="intel-old")  # no longer listed
    plan = _plan(
        hardware,
        [_live("old", gone), _live("same", CPU)],
        _change("old", Action.UPDATE, replace(gone, max_replica=5)),
        _change("same", Action.NOOP),
        _change("other-ns", Action.CREATE, CPU),
    )
    old = plan.changes[0].cost
    assert old is not None and old.before is not None
    assert old.before.price_per_hour is None
    assert old.monthly_before is None and old.monthly_after is None and old.delta is None
    total = totals(plan)
    assert total is not None
    assert total.before is None and total.after is None and total.delta is None
    assert total.unknown == ("acme/old",)


def test_stack_totals_sum_every_endpoint(hardware: Fleet) -> None:
    plan = _plan(
        hardware,
        [_live("same", CPU), _live("gone", L4)],
        _change("same", Action.NOOP),
        _change("gone", Action.DELETE),
        _change("new", Action.CREATE, CPU),
    )
    total = totals(plan)
    assert total is not None and total.unknown == ()
    cpu = Range(48.91, 146.73)
    assert total.before == cpu + Range(584.0, 1752.0)  # L4: 1..3 x $0.80 x 730
    assert total.after == cpu + cpu
    assert total.delta == Range(-535.09, -1605.27)


def test_a_plan_without_costs_has_no_totals() -> None:
    assert totals(Plan("s", changes=(_change("x", Action.CREATE, CPU),))) is None


def test_an_update_of_a_paused_endpoint_stays_free(hardware: Fleet) -> None:
    paused = replace(L4, min_replica=0, max_replica=0)
    plan = _plan(
        hardware,
        [_live("asleep", paused, EndpointState.PAUSED)],
        _change("asleep", Action.UPDATE, replace(paused, tags=("new",))),
    )
    cost = plan.changes[0].cost
    assert cost is not None and cost.after is not None and cost.after.stopped
    assert cost.monthly_before == cost.monthly_after == Range(0, 0)


def test_a_namespace_whose_hardware_was_not_read_is_unknown(hardware: Fleet) -> None:
    fleet = replace(
        hardware,
        endpoints={"elsewhere": (LiveEndpoint("elsewhere", "x", CPU, EndpointState.RUNNING),)},
    )
    change = ResourceChange(
        "elsewhere", "x", Action.DELETE, (), Seen(exists=True), steps=(Action.DELETE,)
    )
    plan = with_costs(Plan("s", changes=(change,)), fleet)
    cost = plan.changes[0].cost
    assert cost is not None
    assert cost.monthly_before is None and cost.monthly_after == Range(0, 0)
    assert cost.delta is None
    total = totals(plan)
    assert total is not None and total.before is None and total.unknown == ("elsewhere/x",)


def test_a_scheduled_endpoint_costs_its_share_of_the_week(hardware: Fleet) -> None:
    # 60 of 168 hours at 1..3 replicas, the rest scaled to zero (0..3): 0.067 x 730 = 48.91.
    week = ((60 / 168, 1, 3), (108 / 168, 0, 3))
    note = ScheduleNote("Europe/Madrid", "running", window="mon-fri 08:00-20:00", week=week)
    plan = _plan(hardware, [], _change("new", Action.CREATE, CPU, schedule=note))
    cost = plan.changes[0].cost
    assert cost is not None and cost.monthly_after == Range(17.47, 146.73)
    # Paused outside: the rest of the week costs nothing, whatever state it is in now.
    paused = replace(note, state="paused", window=None, week=((60 / 168, 1, 3), (108 / 168, 0, 0)))
    live = _live("old", CPU, EndpointState.PAUSED)
    plan = _plan(hardware, [live], _change("old", Action.NOOP, schedule=paused))
    cost = plan.changes[0].cost
    assert cost is not None and cost.monthly_after == Range(17.47, 52.4)
    # The live endpoint was not under this schedule yet (not `in_force`): it costs what it
    # runs now (paused: 0); once applied, before and after are both the scheduled estimate.
    assert cost.monthly_before == Range(0, 0)
    plan = _plan(
        hardware, [live], _change("old", Action.NOOP, schedule=replace(paused, in_force=True))
    )
    cost = plan.changes[0].cost
    assert cost is not None and cost.delta == Range(0, 0)
