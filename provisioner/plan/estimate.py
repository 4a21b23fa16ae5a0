"""Attach each change's cost (`plan/cost.py`) to a plan, and sum the stack's totals. Pure: the
plan and the live fleet it was made against in, a plan out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from provisioner.hub.models import Config, EndpointState, Fleet, LiveEndpoint
from provisioner.plan.cost import NOT_RUNNING, ZERO, Cost, Range, Totals, footprint
from provisioner.plan.desired import resumed_config
from provisioner.plan.hardware import HardwareIndex
from provisioner.plan.model import Action, Plan, ResourceChange


def _after(change: ResourceChange, live: LiveEndpoint | None) -> tuple[Config, bool] | None:
    """The configuration the change leaves, and whether it then runs no replica (None: gone)."""
    steps = change.steps or (change.action,)
    if change.action is Action.DELETE:
        return None
    if change.action is Action.NOOP:
        return None if live is None else (live.config, live.state in NOT_RUNNING)
    if Action.CREATE in steps or change.action is Action.REPLACE:
        if change.desired is None:
            return None
        return change.desired, Action.PAUSE in steps
    if live is None:
        return None
    paused = Action.PAUSE in steps or (live.state in NOT_RUNNING and Action.RESUME not in steps)
    if change.desired is not None:
        return change.desired, paused
    if Action.RESUME in steps and live.state is EndpointState.PAUSED:
        return resumed_config(live.config), paused
    return live.config, paused


def change_cost(change: ResourceChange, live: LiveEndpoint | None, hardware: HardwareIndex) -> Cost:
    # A scheduled endpoint costs its share of the week in each window (and outside them), not
    # what it runs at this instant; the live one too when it runs under this same schedule.
    week = change.schedule.week if change.schedule is not None else ()
    before = (
        None
        if live is None
        else footprint(
            live.config,
            hardware,
            stopped=live.state in NOT_RUNNING,
            week=week if change.schedule is not None and change.schedule.in_force else (),
        )
    )
    after = _after(change, live)
    return Cost(
        before=before,
        after=None if after is None else footprint(after[0], hardware, stopped=after[1], week=week),
    )


def with_costs(plan: Plan, fleet: Fleet) -> Plan:
    """The plan with every change's `cost`, from the live fleet it was made against."""
    live = fleet.index()
    hardware = {namespace: HardwareIndex(rows) for namespace, rows in fleet.hardware.items()}
    empty = HardwareIndex(())
    changes = tuple(
        replace(
            c,
            cost=change_cost(c, live.get((c.namespace, c.name)), hardware.get(c.namespace, empty)),
        )
        for c in plan.changes
    )
    return replace(plan, changes=changes)


def _sum(ranges: Iterable[Range | None]) -> Range | None:
    total = ZERO
    for found in ranges:
        if found is None:
            return None
        total = total + found
    return total


def totals(plan: Plan) -> Totals | None:
    """The stack's totals over every endpoint of the plan; None when the plan holds no costs
    (saved by a provisioner from before costs, or made without a hardware listing)."""
    costs = [(c.address, c.cost) for c in plan.changes]
    if not costs or any(cost is None for _, cost in costs):
        return None
    known = [(address, cost) for address, cost in costs if cost is not None]
    unknown = tuple(
        address
        for address, cost in known
        if cost.monthly_before is None or cost.monthly_after is None
    )
    return Totals(
        before=_sum(cost.monthly_before for _, cost in known),
        after=_sum(cost.monthly_after for _, cost in known),
        unknown=unknown,
    )
