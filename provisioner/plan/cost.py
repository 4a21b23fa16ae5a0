"""What each change does to the monthly bill, from the namespace's hardware listing. Pure.

For every endpoint of a plan (no-ops too, so the stack's totals are whole), the configuration it
runs before the change (the live one) and after it (what the change leaves), each as a
`Footprint`: where it runs, its replica range, whether it is stopped (paused or failed), and the
listing's price per replica-hour. A month is 730 hours (365 x 24 / 12), so a footprint costs
`min_replicas..max_replicas x price x 730` USD a month; paused (or failed: it runs no replica)
costs 0..0, and scale to zero (min 0) starts at 0. A price the listing does not give (hardware
it no longer lists, a namespace whose listing was not read) is unknown (`None`), never 0: an
estimate that silently counts an unknown GPU as free is worse than none.

The delta of two ranges is taken bound by bound (low minus low, high minus high). The figures
are stored in the plan (`ResourceChange.cost`), so a saved plan renders them with no API call;
`plan/estimate.py` works them out for a plan. Values only: this module imports no plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from provisioner.hub.models import Config, EndpointState
from provisioner.plan.hardware import HardwareIndex

HOURS_PER_MONTH = 730

# States in which an endpoint runs no replica (as the quota check counts them, `plan/quota.py`).
NOT_RUNNING = frozenset({EndpointState.PAUSED, EndpointState.FAILED})


@dataclass(frozen=True)
class Range:
    """USD a month, from the fewest replicas to the most."""

    low: float
    high: float

    def __add__(self, other: Range) -> Range:
        return Range(round(self.low + other.low, 2), round(self.high + other.high, 2))

    def __sub__(self, other: Range) -> Range:
        return Range(round(self.low - other.low, 2), round(self.high - other.high, 2))


ZERO = Range(0.0, 0.0)


@dataclass(frozen=True)
class Footprint:
    """What an endpoint runs on, and what that costs per replica-hour (None: unknown)."""

    vendor: str
    region: str
    accelerator: str
    instance_type: str
    instance_size: str
    min_replicas: int
    max_replicas: int
    stopped: bool = False  # paused or failed: runs no replica
    price_per_hour: float | None = None
    accelerators: int | None = None  # per replica, from the listing; None: not listed
    # A scheduled endpoint: (share of the week, min replicas, max replicas) for each window
    # and for the time outside them (paused: 0, 0); the shares add up to 1. Empty: the
    # replica range above holds all month.
    week: tuple[tuple[float, int, int], ...] = ()

    @property
    def monthly(self) -> Range | None:
        if self.stopped and not self.week:
            return ZERO
        if self.price_per_hour is None:
            return None
        hourly = self.price_per_hour * HOURS_PER_MONTH
        if self.week:
            low = sum(share * low for share, low, _ in self.week)
            high = sum(share * high for share, _, high in self.week)
            return Range(round(low * hourly, 2), round(high * hourly, 2))
        return Range(round(self.min_replicas * hourly, 2), round(self.max_replicas * hourly, 2))

    @property
    def gpus(self) -> int:
        """The most GPUs it may run at once (0 when paused or not on GPU)."""
        if self.stopped or self.accelerator != "gpu":
            return 0
        return (self.accelerators or 1) * self.max_replicas


@dataclass(frozen=True)
class Cost:
    """One endpoint's footprint before and after the change; None: it does not exist then."""

    before: Footprint | None = None
    after: Footprint | None = None

    @property
    def monthly_before(self) -> Range | None:
        return ZERO if self.before is None else self.before.monthly

    @property
    def monthly_after(self) -> Range | None:
        return ZERO if self.after is None else self.after.monthly

    @property
    def delta(self) -> Range | None:
        before, after = self.monthly_before, self.monthly_after
        return None if before is None or after is None else after - before


@dataclass(frozen=True)
class Totals:
    """The stack's monthly cost before and after the plan; a side with any unknown price is
    None, and `unknown` names the endpoints whose price is not known."""

    before: Range | None
    after: Range | None
    unknown: tuple[str, ...] = ()

    @property
    def delta(self) -> Range | None:
        return None if self.before is None or self.after is None else self.after - self.before


def footprint(
    config: Config,
    hardware: HardwareIndex,
    *,
    stopped: bool,
    week: tuple[tuple[float, int, int], ...] = (),
) -> Footprint:
    row = hardware.row(config)
    return Footprint(
        vendor=config.vendor,
        region=config.region,
        accelerator=config.accelerator,
        instance_type=config.instance_type,
        instance_size=config.instance_size,
        min_replicas=config.min_replica,
        max_replicas=config.max_replica,
        stopped=stopped,
        price_per_hour=None if row is None else row.price_per_hour,
        accelerators=None if row is None else row.num_accelerators,
        week=week,
    )
