"""`plan.schedule` at each 2027 daylight-saving switch, Europe (Madrid) and US (New York): window
edges on the switch day, an edge inside the skipped hour and inside the repeated hour (the
meanings the README documents), and the next transition across a switch."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from provisioner.plan.schedule import evaluate, spans, week_share
from provisioner.spec.schedule import Schedule, Window

MADRID, NEW_YORK = "Europe/Madrid", "America/New_York"


def _schedule(zone: str, days: str, hours: str, *more: tuple[str, str]) -> Schedule:
    windows = [Window(days=(days,), hours=hours)]
    windows += [Window(days=(d,), hours=h) for d, h in more]
    return Schedule(timezone=zone, windows=tuple(windows))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _only(schedule: Schedule, day: date) -> tuple[str, str]:
    (span,) = spans(schedule, day, day)
    return (
        span.start.strftime("%Y-%m-%dT%H:%MZ"),
        span.end.strftime("%Y-%m-%dT%H:%MZ"),
    )


@pytest.mark.parametrize(
    ("zone", "day", "opens", "closes"),
    [
        # Spring forward: 00:00 is still winter time, 06:00 already summer time: 5 real hours.
        (MADRID, date(2027, 3, 28), "2027-03-27T23:00Z", "2027-03-28T04:00Z"),
        # Fall back: 00:00 summer time, 06:00 winter time: 7 real hours.
        (MADRID, date(2027, 10, 31), "2027-10-30T22:00Z", "2027-10-31T05:00Z"),
        (NEW_YORK, date(2027, 3, 14), "2027-03-14T05:00Z", "2027-03-14T10:00Z"),
        (NEW_YORK, date(2027, 11, 7), "2027-11-07T04:00Z", "2027-11-07T11:00Z"),
    ],
)
def test_edges_on_the_switch_day_use_the_offset_in_force_at_each_edge(
    zone: str, day: date, opens: str, closes: str
) -> None:
    schedule = _schedule(zone, "sun", "00:00-06:00")
    assert _only(schedule, day) == (opens, closes)
    assert evaluate(schedule, _utc(opens)).window is not None
    assert evaluate(schedule, _utc(closes)).window is None


@pytest.mark.parametrize(
    ("zone", "day", "opens"),
    [
        # 02:30 does not exist on the day: it is read with the winter offset, so the window
        # opens one hour later on the new clock (03:30 summer time).
        (MADRID, date(2027, 3, 28), "2027-03-28T01:30Z"),
        (NEW_YORK, date(2027, 3, 14), "2027-03-14T07:30Z"),
    ],
)
def test_an_edge_in_the_skipped_hour_falls_an_hour_later_on_the_new_clock(
    zone: str, day: date, opens: str
) -> None:
    schedule = _schedule(zone, "sun", "02:30-05:00")
    assert _only(schedule, day)[0] == opens
    before = evaluate(schedule, _utc(opens.replace("30Z", "29Z")))
    assert before.window is None and before.until == _utc(opens)


@pytest.mark.parametrize(
    ("zone", "day", "first", "repeat", "closes"),
    [
        # 01:30 happens twice in New York on 2027-11-07 (EDT, then EST): the first one counts.
        (
            NEW_YORK,
            date(2027, 11, 7),
            "2027-11-07T05:30Z",
            "2027-11-07T06:15Z",
            "2027-11-07T08:00Z",
        ),
        # 02:30 happens twice in Madrid on 2027-10-31 (CEST, then CET).
        (MADRID, date(2027, 10, 31), "2027-10-31T00:30Z", "2027-10-31T01:15Z", "2027-10-31T02:00Z"),
    ],
)
def test_an_edge_in_the_repeated_hour_is_its_first_occurrence_and_does_not_flap(
    zone: str, day: date, first: str, repeat: str, closes: str
) -> None:
    opens_at = "01:30" if zone == NEW_YORK else "02:30"
    schedule = _schedule(zone, "sun", f"{opens_at}-03:00")
    assert _only(schedule, day) == (first, closes)
    # During the repeat the wall clock shows a time before the edge again: still open.
    during = evaluate(schedule, _utc(repeat))
    assert during.window is not None and during.until == _utc(closes)


@pytest.mark.parametrize(
    ("zone", "saturday", "monday_opens"),
    [
        # Outside mon-fri 08:00-20:00 on the switch weekend: the next opening is on the new
        # offset (a naive "same offset as now" would be an hour off).
        (MADRID, "2027-03-27T21:00Z", "2027-03-29T06:00Z"),
        (MADRID, "2027-10-30T21:00Z", "2027-11-01T07:00Z"),
        (NEW_YORK, "2027-03-13T21:00Z", "2027-03-15T12:00Z"),
        (NEW_YORK, "2027-11-06T21:00Z", "2027-11-08T13:00Z"),
    ],
)
def test_the_next_transition_is_right_across_the_switch(
    zone: str, saturday: str, monday_opens: str
) -> None:
    schedule = _schedule(zone, "mon-fri", "08:00-20:00")
    decision = evaluate(schedule, _utc(saturday))
    assert decision.window is None
    assert decision.until == _utc(monday_opens)
    inside = evaluate(schedule, _utc(monday_opens))
    assert inside.window is not None
    # It closes at 20:00 local on the same Monday, twelve real hours later.
    assert (inside.until - _utc(monday_opens)).total_seconds() == 12 * 3600


def test_share_of_the_week_counts_the_real_hours_of_a_switch_week() -> None:
    schedule = _schedule(MADRID, "mon-fri", "08:00-20:00")
    ((share, _),) = week_share(schedule, _utc("2027-03-24T12:00Z"))
    assert share == pytest.approx(60 / 167)  # the week of 2027-03-28 has 167 hours
    ((share, _),) = week_share(schedule, _utc("2027-04-07T12:00Z"))
    assert share == pytest.approx(60 / 168)
    ((share, _),) = week_share(schedule, _utc("2027-10-27T12:00Z"))
    assert share == pytest.approx(60 / 169)


def test_a_window_past_midnight_belongs_to_the_day_it_starts_and_hands_over() -> None:
    schedule = _schedule(NEW_YORK, "fri", "20:00-06:00", ("sat", "06:00-09:00"))
    friday_night = evaluate(schedule, _utc("2027-06-05T02:00Z"))  # Fri 22:00 EDT
    assert friday_night.window is not None and friday_night.window.hours == "20:00-06:00"
    # It ends where Saturday's begins: the next transition is that handover (the replica
    # bounds may differ), and the endpoint is never paused in between.
    assert friday_night.until == _utc("2027-06-05T10:00Z")
    saturday = evaluate(schedule, _utc("2027-06-05T10:00Z"))
    assert saturday.window is not None and saturday.until == _utc("2027-06-05T13:00Z")
