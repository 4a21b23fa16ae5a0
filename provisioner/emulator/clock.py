"""Emulated time: `offset + speed x real elapsed`, moved forward on demand by `advance()`.

Owns the single notion of "now" used by every transition, timestamp and idle timer, so that tests
can freeze time (`speed=0`) and step it deterministically. It must not sleep: nothing in the
emulator waits on the clock, transitions are computed from timestamps when something looks at them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# Emulated time stays where timestamps can be written (and read back from a data file): at most
# a century past the epoch, and a speed that cannot run through it within days.
MAX_YEARS = 100
MAX_SECONDS = MAX_YEARS * 365 * 24 * 3600.0
MAX_SPEED = 10_000.0


class Clock:
    """Monotonic emulated seconds since the emulator's epoch, plus the wall time they map to."""

    def __init__(
        self,
        speed: float = 1.0,
        *,
        start: float = 0.0,
        epoch: datetime | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not math.isfinite(speed) or not 0 <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be between 0 and {MAX_SPEED:g}")
        self._speed = speed
        self._monotonic = monotonic
        self._real_start = monotonic()
        self._offset = start
        self._lock = threading.Lock()
        # Millisecond precision: the API's timestamps carry milliseconds, and a round-trip through
        # a data file must give the same strings.
        origin = epoch if epoch is not None else datetime.now(UTC)
        if origin.tzinfo is None:
            origin = origin.replace(tzinfo=UTC)
        self.epoch = origin.replace(microsecond=origin.microsecond // 1000 * 1000)

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        with self._lock:
            return self._offset + self._speed * (self._monotonic() - self._real_start)

    def advance(self, seconds: float) -> float:
        """Move emulated time forward; returns the new now. Time never goes backwards."""
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("cannot advance the clock by a negative or infinite amount")
        with self._lock:
            if self._offset + seconds > MAX_SECONDS:
                raise ValueError(
                    f"cannot advance the clock past {MAX_SECONDS:g} s ({MAX_YEARS} years) of "
                    "emulated time: timestamps would not be representable"
                )
            self._offset += seconds
        return self.now()

    def wall(self, at: float) -> datetime:
        return self.epoch + timedelta(seconds=at)

    def iso(self, at: float) -> str:
        """The API's timestamp form: `2023-10-26T12:41:53.263Z` (UTC, milliseconds)."""
        return iso_millis(self.wall(at))


def iso_millis(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Inverse of `iso_millis` (also accepts any ISO 8601 string `fromisoformat` understands)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
