"""A spec's schedule at a given instant: which window holds, when that next changes, what share
of the week the endpoint runs, and the spec as it must be at that instant. Pure: `now` is an
argument (the CLI reads the clock, or `PROVISIONER_NOW`, once), never `datetime.now()`.

Windows are local wall-clock times in the schedule's zone, turned into UTC instants per local
date with Python's zoneinfo rules (PEP 495, fold=0), which is what settles daylight saving:
- on a normal day an edge is the instant the local clock shows it (08:00 CET = 07:00Z);
- an edge inside the hour skipped by spring-forward (02:30 on 2027-03-28 in Madrid) is read with
  the offset in force before the switch: it falls one hour later on the new clock (03:30 CEST);
- an edge inside the hour repeated by fall-back (01:30 on 2027-11-07 in New York) is its first
  occurrence (01:30 EDT); the window does not close or open again when the hour repeats.
The share of the week is real elapsed hours inside windows over the real hours of the local
week holding `now` (167 or 169 hours across a switch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from provisioner.plan.model import ScheduleNote
from provisioner.spec.model import DesiredState, EndpointSpec
from provisioner.spec.schedule import (
    MINUTES_PER_DAY,
    Outside,
    Schedule,
    Window,
    parse_hours,
    weekdays,
)


@dataclass(frozen=True)
class Span:
    """One occurrence of a window: [start, end) in UTC."""

    start: datetime
    end: datetime
    window: Window


@dataclass(frozen=True)
class Decision:
    """What the schedule says at `now`: inside `window` (None: outside every window) until
    `until`, the next instant that changes it."""

    window: Window | None
    until: datetime


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    local = datetime.combine(day, time()) + timedelta(minutes=minute)
    # `combine` then add keeps wall time (24:00 becomes the next day's 00:00); fold=0 as above.
    return local.replace(tzinfo=zone).astimezone(UTC)


def spans(schedule: Schedule, first: date, last: date) -> list[Span]:
    """Every occurrence of every window that starts on a local date in [first, last], by start."""
    zone = ZoneInfo(schedule.timezone)
    found: list[Span] = []
    day = first
    while day <= last:
        for window in schedule.windows:
            hours = parse_hours(window.hours)
            if hours is None or day.weekday() not in weekdays(window.days):
                continue
            start, end = hours
            if end <= start:
                end += MINUTES_PER_DAY
            found.append(Span(_instant(day, start, zone), _instant(day, end, zone), window))
        day += timedelta(days=1)
    return sorted(found, key=lambda span: span.start)


def _around(schedule: Schedule, now: datetime) -> list[Span]:
    today = now.astimezone(ZoneInfo(schedule.timezone)).date()
    return spans(schedule, today - timedelta(days=2), today + timedelta(days=9))


def evaluate(schedule: Schedule, now: datetime) -> Decision:
    """The window holding at `now` (an aware datetime) and when that changes next."""
    occurrences = _around(schedule, now)
    current = next((s for s in occurrences if s.start <= now < s.end), None)
    if current is None:
        upcoming = min(s.start for s in occurrences if s.start > now)
        return Decision(None, upcoming)
    # A window that ends where another begins hands over there: that is a transition too (the
    # replica bounds may change), though the endpoint keeps running.
    return Decision(current.window, current.end)


def week_share(schedule: Schedule, now: datetime) -> list[tuple[float, Window]]:
    """Each window's share of the real hours of the local week (Monday 00:00) holding `now`."""
    zone = ZoneInfo(schedule.timezone)
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    begin = _instant(monday, 0, zone)
    end = _instant(monday + timedelta(days=7), 0, zone)
    total = (end - begin).total_seconds()
    shares: dict[Window, float] = {}
    for span in spans(schedule, monday - timedelta(days=1), monday + timedelta(days=6)):
        inside = (min(span.end, end) - max(span.start, begin)).total_seconds()
        if inside > 0:
            shares[span.window] = shares.get(span.window, 0.0) + inside / total
    return [(share, window) for window, share in shares.items()]


def scaling_in(spec: EndpointSpec, window: Window) -> tuple[int, int]:
    """The replica bounds inside `window`: its own, else the spec's."""
    low = spec.scaling.min_replicas if window.min_replicas is None else window.min_replicas
    high = spec.scaling.max_replicas if window.max_replicas is None else window.max_replicas
    return low, high


def resolve(spec: EndpointSpec, decision: Decision) -> EndpointSpec:
    """The spec as it must be under `decision`: inside a window, running with the window's
    replica bounds (a scale-to-zero timeout only while min_replicas is 0); outside, paused or
    at min_replicas 0 with the spec's timeout. An explicit `state: paused` is left alone."""
    schedule = spec.schedule
    if schedule is None or spec.state is DesiredState.PAUSED:
        return spec
    if decision.window is None:
        if schedule.outside is Outside.PAUSED:
            return replace(spec, state=DesiredState.PAUSED)
        return replace(spec, scaling=replace(spec.scaling, min_replicas=0))
    low, high = scaling_in(spec, decision.window)
    timeout = spec.scaling.scale_to_zero_timeout if low == 0 else None
    scaling = replace(
        spec.scaling, min_replicas=low, max_replicas=high, scale_to_zero_timeout=timeout
    )
    return replace(spec, scaling=scaling)


def iso(instant: datetime) -> str:
    """`2027-03-26T19:00:00Z`: an instant as plans write it."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _week(
    spec: EndpointSpec, schedule: Schedule, now: datetime
) -> tuple[tuple[float, int, int], ...]:
    found = [
        (round(share, 4), *scaling_in(spec, window)) for share, window in week_share(schedule, now)
    ]
    rest = round(max(0.0, 1.0 - sum(share for share, _, _ in found)), 4)
    high = spec.scaling.max_replicas if schedule.outside is Outside.SCALED_TO_ZERO else 0
    return (*found, (rest, 0, high))


def scheduled(
    spec: EndpointSpec, now: datetime, *, in_force: bool = False
) -> tuple[EndpointSpec, ScheduleNote | None]:
    """The spec as it must be at `now`, and what its schedule decided (None: it has none)."""
    schedule = spec.schedule
    if schedule is None:
        return spec, None
    if spec.state is DesiredState.PAUSED:
        note = ScheduleNote(schedule.timezone, DesiredState.PAUSED.value, kill_switch=True)
        return spec, note
    decision = evaluate(schedule, now)
    resolved = resolve(spec, decision)
    if decision.window is not None:
        state = DesiredState.RUNNING.value
    else:
        state = schedule.outside.value
    local = decision.until.astimezone(ZoneInfo(schedule.timezone))
    note = ScheduleNote(
        schedule.timezone,
        state,
        window=None if decision.window is None else decision.window.label,
        until=iso(decision.until),
        until_local=local.strftime("%a %Y-%m-%d %H:%M %Z"),
        week=_week(spec, schedule, now),
        in_force=in_force,
    )
    return resolved, note
