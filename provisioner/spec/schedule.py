"""`schedule:` in a spec: its values, the reading of `days` and `hours`, and its checks.

A schedule names an IANA time zone and the windows (days, local wall-clock hours) in which the
endpoint runs; outside them it is paused or scaled to zero. This module owns the value types,
the parsing of a window into minutes of the local week (`weekly`), and the rules a schedule
must follow (`schedule_rules`): a known time zone, well-formed days and hours, no empty window,
no two windows overlapping, and an `outside: scaled-to-zero` the spec's scaling allows. It
evaluates nothing at a point in time: that is `plan.schedule`'s, which is given the clock.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from provisioner.spec.diagnostics import Diagnostic
from provisioner.spec.loader import Document, KeyPath

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
EVERY_DAY = frozenset({"daily", "every day"})
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class Outside(enum.StrEnum):
    PAUSED = "paused"
    SCALED_TO_ZERO = "scaled-to-zero"


@dataclass(frozen=True, kw_only=True)
class Window:
    """Days as written (each a day, a range `mon-fri`, or `daily`), hours `HH:MM-HH:MM`."""

    days: tuple[str, ...]
    hours: str
    min_replicas: int | None = None
    max_replicas: int | None = None

    @property
    def label(self) -> str:
        """`mon-fri 08:00-20:00`: how plans name the window."""
        return f"{','.join(self.days)} {self.hours.replace(' ', '')}"


@dataclass(frozen=True, kw_only=True)
class Schedule:
    timezone: str
    windows: tuple[Window, ...]
    # Not a schema default: a default under `schedule` would give every spec a schedule.
    outside: Outside = Outside.PAUSED


def days_as_list(value: Any) -> Any:
    """`days: mon-fri` (a string) as the list form the spec model holds; anything else as is."""
    return [value] if isinstance(value, str) else value


def _day_set(token: str) -> frozenset[int] | None:
    """The weekdays (0 = Monday) one `days` entry names; None when it names none."""
    word = " ".join(token.lower().split())
    if word in EVERY_DAY:
        return frozenset(range(7))
    if word in DAYS:
        return frozenset({DAYS.index(word)})
    first, dash, last = word.partition("-")
    if dash and first.strip() in DAYS and last.strip() in DAYS:
        start, end = DAYS.index(first.strip()), DAYS.index(last.strip())
        # `fri-mon` wraps over the weekend: fri, sat, sun, mon.
        return frozenset((start + i) % 7 for i in range((end - start) % 7 + 1))
    return None


def weekdays(days: Sequence[str]) -> frozenset[int]:
    """Every weekday a window's `days` names (0 = Monday); unknown entries name none."""
    found: set[int] = set()
    for token in days:
        found |= _day_set(token) or frozenset()
    return frozenset(found)


def parse_hours(hours: str) -> tuple[int, int] | None:
    """`08:00-20:00` -> minutes after local midnight (start, end); None when malformed. An end
    at or before the start (other than equal) runs past midnight: `20:00-06:00` is (1200, 360).
    `24:00` is allowed as an end only."""
    found = _HOURS.match(hours)
    if found is None:
        return None
    h1, m1, h2, m2 = (int(part) for part in found.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        return None
    return h1 * 60 + m1, h2 * 60 + m2


def weekly(window: Window) -> list[tuple[int, int]]:
    """The window as spans of minutes of the local week (Monday 00:00 = 0), `end` exclusive;
    a span past Sunday midnight continues at minute 0 (split in two)."""
    hours = parse_hours(window.hours)
    if hours is None or hours[0] == hours[1]:
        return []
    start, end = hours
    length = (end - start) % MINUTES_PER_DAY or MINUTES_PER_DAY
    spans: list[tuple[int, int]] = []
    for day in sorted(weekdays(window.days)):
        begin = day * MINUTES_PER_DAY + start
        finish = begin + length
        if finish <= MINUTES_PER_WEEK:
            spans.append((begin, finish))
        else:
            spans += [(begin, MINUTES_PER_WEEK), (0, finish - MINUTES_PER_WEEK)]
    return spans


@cache
def known_zones() -> frozenset[str]:
    import zoneinfo  # only a spec with a schedule needs it

    return frozenset(zoneinfo.available_timezones())


def _clock(minute: int) -> str:
    day, rest = divmod(minute % MINUTES_PER_WEEK, MINUTES_PER_DAY)
    return f"{DAYS[day]} {rest // 60:02d}:{rest % 60:02d}"


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _zone_rule(doc: Document, schedule: Mapping[str, Any]) -> Iterator[Diagnostic]:
    zone = schedule.get("timezone")
    if not isinstance(zone, str) or not zone or zone in known_zones():
        return
    lowered = {name.lower(): name for name in known_zones()}
    import difflib

    close = difflib.get_close_matches(zone.lower(), list(lowered), n=1, cutoff=0.6)
    hint = f"; did you mean {lowered[close[0]]!r}?" if close else ""
    yield Diagnostic(
        doc.mark(("schedule", "timezone")),
        f"schedule.timezone: {zone!r} is not a time zone of the IANA database{hint}",
    )


def _window_rules(
    doc: Document, index: int, window: Mapping[str, Any]
) -> Iterator[Diagnostic | tuple[int, list[tuple[int, int]]]]:
    where: KeyPath = ("schedule", "windows", index)
    days = days_as_list(window.get("days"))
    days_ok = isinstance(days, list) and all(isinstance(d, str) for d in days)
    if days_ok:
        for position, token in enumerate(days):
            if _day_set(token) is None:
                path = (*where, "days", position) if isinstance(window["days"], list) else None
                yield Diagnostic(
                    doc.mark(path or (*where, "days")),
                    f"schedule.windows[{index}].days: {token!r} is not a day: use mon, tue, wed, "
                    "thu, fri, sat, sun, a range such as mon-fri, or daily",
                )
                days_ok = False
    hours = window.get("hours")
    if not isinstance(hours, str):
        return
    parsed = parse_hours(hours)
    if parsed is None:
        yield Diagnostic(
            doc.mark((*where, "hours")),
            f"schedule.windows[{index}].hours: {hours!r} is not HH:MM-HH:MM (local time, "
            "00:00 to 24:00, e.g. '08:00-20:00')",
        )
        return
    if parsed[0] == parsed[1]:
        yield Diagnostic(
            doc.mark((*where, "hours")),
            f"schedule.windows[{index}].hours: {hours!r} is empty (it starts when it ends); "
            "for a whole day write '00:00-24:00'",
        )
        return
    low, high = window.get("min_replicas"), window.get("max_replicas")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        yield Diagnostic(
            doc.mark((*where, "min_replicas")),
            f"schedule.windows[{index}].min_replicas ({low}) is greater than its "
            f"max_replicas ({high})",
        )
    if days_ok:
        yield index, weekly(Window(days=tuple(days), hours=hours))


def _overlaps(
    doc: Document, spans: list[tuple[int, list[tuple[int, int]]]]
) -> Iterator[Diagnostic]:
    for later in range(len(spans)):
        for earlier in range(later):
            (i, first), (j, second) = spans[earlier], spans[later]
            shared = [max(a, c) for a, b in first for c, d in second if max(a, c) < min(b, d)]
            if shared:
                yield Diagnostic(
                    doc.mark(("schedule", "windows", j)),
                    f"schedule.windows[{j}] overlaps schedule.windows[{i}] (both include "
                    f"{_clock(min(shared))}, local time); windows may not overlap",
                )


def _scaling_rules(
    doc: Document, schedule: Mapping[str, Any], scaling: Mapping[str, Any]
) -> Iterator[Diagnostic]:
    low = scaling.get("min_replicas")
    has_timeout = scaling.get("scale_to_zero_timeout") is not None
    zero_ok = low == 0 and has_timeout
    if schedule.get("outside") == Outside.SCALED_TO_ZERO and not zero_ok:
        yield Diagnostic(
            doc.mark(("schedule", "outside")),
            "schedule.outside: scaled-to-zero needs scaling.min_replicas: 0 with a "
            "scale_to_zero_timeout (what applies outside the windows); raise min_replicas "
            "inside them with the window's own min_replicas",
        )
    windows = schedule.get("windows")
    for index, window in enumerate(windows if isinstance(windows, list) else []):
        window = _map(window)
        high = window.get("max_replicas", scaling.get("max_replicas"))
        below = window.get("min_replicas", low)
        if window.get("min_replicas") == 0 and not zero_ok:
            yield Diagnostic(
                doc.mark(("schedule", "windows", index, "min_replicas")),
                f"schedule.windows[{index}].min_replicas: 0 needs scaling.min_replicas: 0 "
                "with a scale_to_zero_timeout",
            )
        elif isinstance(below, int) and isinstance(high, int) and below > high:
            if "min_replicas" in window and "max_replicas" in window:
                continue  # reported by the window's own rule
            yield Diagnostic(
                doc.mark(("schedule", "windows", index)),
                f"schedule.windows[{index}]: min_replicas {below} is greater than "
                f"max_replicas {high} inside this window",
            )


def schedule_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    """Every problem of the spec's `schedule:` (none when it has none). Shapes and unknown keys
    are the schema's; these are the rules it cannot say."""
    schedule = data.get("schedule")
    if not isinstance(schedule, dict):
        return
    yield from _zone_rule(doc, schedule)
    windows = schedule.get("windows")
    spans: list[tuple[int, list[tuple[int, int]]]] = []
    for index, window in enumerate(windows if isinstance(windows, list) else []):
        if not isinstance(window, dict):
            continue
        for found in _window_rules(doc, index, window):
            if isinstance(found, Diagnostic):
                yield found
            else:
                spans.append(found)
    yield from _overlaps(doc, spans)
    yield from _scaling_rules(doc, schedule, _map(data.get("scaling")))
