"""What happened to each change, and the events apply reports while it works."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from provisioner.plan.model import Action, ResourceChange


@dataclass(frozen=True)
class Outcome:
    change: ResourceChange
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class WaitRow:
    """One endpoint being waited for: where it is, and since when (seconds)."""

    address: str
    target: str
    state: str
    elapsed: float
    done: bool = False
    failed: bool = False


class Reporter(Protocol):
    def step(self, change: ResourceChange, step: Action) -> None: ...
    def finished(self, outcome: Outcome) -> None: ...
    def waiting(self, rows: list[WaitRow]) -> None: ...


class SilentReporter:
    def step(self, change: ResourceChange, step: Action) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass

    def waiting(self, rows: list[WaitRow]) -> None:
        pass
