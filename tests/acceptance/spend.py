"""What a live run may spend, and what it will use: the budget, the hardware choice, the worst case.

A run on the real service is billed, so it says before its first create what it will use and what
the worst case costs, and refuses (`Refused`) when that is beyond what the user allowed:

- the budget (`Budget`): at most `PROVISIONER_LIVE_MAX_ENDPOINTS` endpoints at a time (default 3),
  nothing new once `PROVISIONER_LIVE_MAX_MINUTES` have passed (default 20), and a worst case of at
  most `PROVISIONER_LIVE_MAX_COST` US dollars (default 2.00);
- the hardware (`pick_hardware`): the cheapest deployable CPU row whose quota
  (`maxAccelerators - usedAccelerators`) leaves room for the endpoints the run may hold at once
  (each has at most one replica); none = a refusal naming the quota seen;
- the worst case (`worst_case`): every endpoint the run may hold at once running on the dearest
  size it uses for every minute of the budget, as if none were paused or scaled to zero.

Pure functions over the hardware listing as huggingface_hub parses it: no I/O, no clock (the
budget's start time is handed in).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from huggingface_hub import InferenceEndpointHardware

DEPLOYABLE = ("available", "low_availability")
DEFAULT_MAX_COST = 2.00
MAX_REPLICA = 1  # every endpoint the suite creates has at most one replica (Target.create)


class Refused(Exception):
    """The live run will not start: the message says why, with the figures and what to change."""


@dataclass
class Budget:
    """How much of the real service a run may use; refuses beyond it (`pytest.skip`)."""

    max_endpoints: int = 3
    max_minutes: float = 20.0
    max_cost: float = DEFAULT_MAX_COST
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> Budget:
        try:
            endpoints = int(environ.get("PROVISIONER_LIVE_MAX_ENDPOINTS", "3"))
            minutes = float(environ.get("PROVISIONER_LIVE_MAX_MINUTES", "20"))
            cost = float(environ.get("PROVISIONER_LIVE_MAX_COST", f"{DEFAULT_MAX_COST:.2f}"))
        except ValueError as error:
            raise pytest.UsageError(f"live budget: {error}") from None
        if endpoints < 1 or not minutes > 0 or not cost > 0:
            raise pytest.UsageError(
                "live budget: the maximum endpoints, minutes and cost must be > 0"
            )
        if not (math.isfinite(minutes) and math.isfinite(cost)):
            raise pytest.UsageError("live budget: the maximum minutes and cost must be finite")
        return cls(endpoints, minutes, cost)

    def remaining(self) -> float:
        return self.max_minutes * 60 - (time.monotonic() - self.started)

    def admit(self, alive: int) -> None:
        if self.remaining() <= 0:
            pytest.skip(f"live budget spent: {self.max_minutes:g} minutes")
        if alive >= self.max_endpoints:
            pytest.skip(f"live budget: already {alive} endpoints (at most {self.max_endpoints})")


@dataclass(frozen=True)
class Hardware:
    """The row every endpoint of the run is created on, and the next size of the same type (for
    the in-place hardware update) when the quota has room for it too."""

    vendor: str
    region: str
    accelerator: str
    instance_type: str
    instance_size: str
    architecture: str
    num_accelerators: int
    price_per_hour: float
    max_accelerators: int
    used_accelerators: int
    bigger_size: str | None = None
    bigger_price: float | None = None
    bigger_accelerators: int | None = None

    @property
    def dearest_price(self) -> float:
        return max(self.price_per_hour, self.bigger_price or 0.0)

    def needs(self, at_once: int) -> int:
        """Accelerators of quota the run may hold at once: one endpoint at a time on the bigger
        size (only the in-place update test uses it), the others on this one."""
        if self.bigger_accelerators is None:
            return at_once * self.num_accelerators * MAX_REPLICA
        return ((at_once - 1) * self.num_accelerators + self.bigger_accelerators) * MAX_REPLICA


def _room(row: InferenceEndpointHardware) -> int:
    return row.max_accelerators - row.used_accelerators


def _label(row: InferenceEndpointHardware) -> str:
    return f"{row.vendor}/{row.region} {row.instance_type} {row.instance_size}"


def pick_hardware(
    rows: Iterable[InferenceEndpointHardware], *, at_once: int, namespace: str
) -> Hardware:
    """The cheapest deployable CPU row with quota for `at_once` endpoints; `Refused` if none."""
    cpu = [r for r in rows if r.accelerator == "cpu" and r.status in DEPLOYABLE]
    if not cpu:
        raise Refused(f"no deployable CPU hardware is offered to {namespace}")
    fitting = [r for r in cpu if _room(r) >= at_once * r.num_accelerators * MAX_REPLICA]
    if not fitting:
        seen = sorted(cpu, key=lambda r: (r.price_per_hour, _label(r)))[:3]
        quotas = "; ".join(
            f"{_label(r)}: {r.used_accelerators} of {r.max_accelerators} accelerators in use"
            for r in seen
        )
        raise Refused(
            f"no deployable CPU hardware in {namespace} has quota for {at_once} endpoint(s) at "
            f"once ({at_once * MAX_REPLICA} replica(s) of one accelerator or more); cheapest "
            f"rows: {quotas}. Free some quota (pause or delete endpoints of that type) or lower "
            "PROVISIONER_LIVE_MAX_ENDPOINTS"
        )
    best = min(
        fitting,
        key=lambda r: (r.price_per_hour, r.num_accelerators, r.vendor, r.region, r.instance_type),
    )
    room = _room(best) - (at_once - 1) * best.num_accelerators * MAX_REPLICA
    bigger = sorted(
        (
            r
            for r in cpu
            if (r.vendor, r.region, r.instance_type)
            == (best.vendor, best.region, best.instance_type)
            and r.price_per_hour > best.price_per_hour
            and r.num_accelerators * MAX_REPLICA <= room
        ),
        key=lambda r: r.price_per_hour,
    )
    return Hardware(
        vendor=best.vendor,
        region=best.region,
        accelerator=best.accelerator,
        instance_type=best.instance_type,
        instance_size=best.instance_size,
        architecture=best.architecture,
        num_accelerators=best.num_accelerators,
        price_per_hour=best.price_per_hour,
        max_accelerators=best.max_accelerators,
        used_accelerators=best.used_accelerators,
        bigger_size=bigger[0].instance_size if bigger else None,
        bigger_price=bigger[0].price_per_hour if bigger else None,
        bigger_accelerators=bigger[0].num_accelerators if bigger else None,
    )


def worst_case(hardware: Hardware, budget: Budget) -> float:
    """US dollars if every endpoint the run may hold at once ran on the dearest size it uses for
    the whole budget (nothing paused, nothing scaled to zero)."""
    return budget.max_endpoints * MAX_REPLICA * hardware.dearest_price * budget.max_minutes / 60


def dollars(amount: float) -> str:
    """Rounded up to the cent: a worst case is never shown below what it is."""
    return f"${math.ceil(round(amount * 100, 6)) / 100:.2f}"


def statement(hardware: Hardware, budget: Budget) -> tuple[str, ...]:
    """What the run will use and its worst case, as said before the first create."""
    hw = hardware
    lines = [
        f"hardware: {hw.vendor}/{hw.region} {hw.instance_type} {hw.instance_size} "
        f"({hw.accelerator}, {hw.num_accelerators} x {hw.architecture}) at "
        f"${hw.price_per_hour:g}/h per replica, one replica at most per endpoint",
    ]
    if hw.bigger_size is not None:
        lines.append(
            f"the in-place size update also uses {hw.instance_type} {hw.bigger_size} at "
            f"${hw.bigger_price:g}/h (one endpoint)"
        )
    else:
        lines.append(
            f"no bigger {hw.instance_type} size fits the quota: the in-place size update skips"
        )
    lines.append(
        f"quota: {hw.used_accelerators} of {hw.max_accelerators} {hw.instance_type} accelerators "
        f"on {hw.vendor} in use; the run holds at most {hw.needs(budget.max_endpoints)} at once"
    )
    lines.append(
        f"worst case: {budget.max_endpoints} endpoint(s) at once x ${hw.dearest_price:g}/h x "
        f"{budget.max_minutes:g} min = {dollars(worst_case(hw, budget))} "
        f"(PROVISIONER_LIVE_MAX_COST {dollars(budget.max_cost)}); endpoints are paused at once "
        "or scale to zero, so a run costs far less"
    )
    return tuple(lines)


def check_cost(hardware: Hardware, budget: Budget) -> None:
    """`Refused` when the worst case is above `PROVISIONER_LIVE_MAX_COST`."""
    cost = worst_case(hardware, budget)
    if cost > budget.max_cost:
        raise Refused(
            f"the worst case, {budget.max_endpoints} endpoint(s) at once x "
            f"${hardware.dearest_price:g}/h x {budget.max_minutes:g} min = {dollars(cost)}, is "
            f"above PROVISIONER_LIVE_MAX_COST ({dollars(budget.max_cost)}); nothing was "
            f"created. To allow it, set PROVISIONER_LIVE_MAX_COST={dollars(cost)[1:]} (or "
            "more), or lower PROVISIONER_LIVE_MAX_ENDPOINTS or PROVISIONER_LIVE_MAX_MINUTES"
        )
