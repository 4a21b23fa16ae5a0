"""Progress while apply works: a live line per endpoint on a terminal, plain lines in CI.

Both implement `apply.results.Reporter`. Thread-safe: the executor reports from worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import click

from provisioner.apply.results import Outcome, WaitRow
from provisioner.plan.model import Action, ResourceChange
from provisioner.render.reasons import counted
from provisioner.render.summary import after_address

# A CI log gets a summary of everything still pending at most this often (seconds).
PLAIN_SUMMARY_EVERY = 30.0


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _row(row: WaitRow) -> str:
    mark = "✗" if row.failed else ("✓" if row.done else "…")
    return f"  {mark} {row.address}: {row.state} (target {row.target}, {_elapsed(row.elapsed)})"


class PlainReporter:
    """For logs: a line when something happens, a periodic summary while waiting."""

    def __init__(self, echo: Callable[[str], None] = click.echo) -> None:
        self._echo = echo
        self._lock = threading.Lock()
        self._last_state: dict[str, str] = {}
        self._last_summary = 0.0

    def step(self, change: ResourceChange, step: Action) -> None:
        with self._lock:
            self._echo(f"{change.address}: {step.value}...")

    def finished(self, outcome: Outcome) -> None:
        with self._lock:
            if outcome.ok:
                self._echo(f"{outcome.change.address}: {outcome.change.action.value} accepted")
            else:
                address = outcome.change.address
                word = "REFUSED" if outcome.refused else "FAILED"
                self._echo(f"{address}: {word}: {after_address(address, outcome.error or '')}")

    def warn(self, text: str) -> None:
        with self._lock:
            click.echo(f"warning: {text}", err=True)

    def waiting(self, rows: list[WaitRow]) -> None:
        with self._lock:
            for row in rows:
                if self._last_state.get(row.address) != row.state:
                    self._last_state[row.address] = row.state
                    self._echo(_row(row).strip())
            elapsed = max((r.elapsed for r in rows), default=0.0)
            pending = [r for r in rows if not r.done]
            if pending and elapsed - self._last_summary >= PLAIN_SUMMARY_EVERY:
                self._last_summary = elapsed
                self._echo(
                    f"still waiting for {counted(len(pending), 'endpoint')} after "
                    f"{_elapsed(elapsed)}: "
                    + ", ".join(f"{r.address} ({r.state})" for r in pending)
                )


class TtyReporter(PlainReporter):
    """For a terminal: the waiting block is redrawn in place, one line per endpoint."""

    def __init__(self, echo: Callable[[str], None] = click.echo) -> None:
        super().__init__(echo)
        self._drawn = 0

    def waiting(self, rows: list[WaitRow]) -> None:
        with self._lock:
            lines = [_row(r) for r in rows]
            up = f"\x1b[{self._drawn}F" if self._drawn else ""
            self._echo(up + "\n".join(f"\x1b[2K{line}" for line in lines))
            self._drawn = len(lines)
