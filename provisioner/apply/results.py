"""What happened to each change, and the events apply reports while it works."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from provisioner.hub.models import Config
from provisioner.plan.model import Action, FieldChange, ResourceChange
from provisioner.smoke.runner import SmokeResult, Verdict
from provisioner.spec.diagnostics import clip
from provisioner.spec.scrub import Scrubber

# A log line under a failure is cut to this many characters (as a service's failure message
# is): a container may print a megabyte on one line.
LOG_LINE_CHARS = 500


@dataclass(frozen=True)
class Outcome:
    change: ResourceChange
    ok: bool
    error: str | None = None
    # Not ok, yet the service accepted every step: only waiting for it failed (a timeout, a
    # failed deployment). The endpoint was created or changed: it exists, and bills.
    accepted: bool = False
    # The smoke test run after the change settled (None: none was run). A failed one makes the
    # outcome not ok (apply exits 1) while the change itself was accepted and settled.
    smoke: SmokeResult | None = None
    # Not started: apply could not find what it would send (a secret whose variable is not
    # set here); nothing of it was sent, and the rest of the plan was applied.
    refused: bool = False
    # Accepted, but the service's answer does not hold these values as sent (`plan.readback`):
    # reported at the spec's lines, recorded, and not sent again by later applies.
    not_kept: tuple[FieldChange, ...] = ()
    # The configuration the endpoint was left with when some of it was not kept (the state
    # records it as applied); None: `change.desired`, as sent.
    kept: Config | None = None
    # The last lines of the endpoint's replica logs, when it failed to deploy or update (the
    # waiter reads them): the cause is there more often than in the service's one-line message.
    logs: tuple[str, ...] = ()

    @property
    def smoke_failed(self) -> bool:
        return self.smoke is not None and self.smoke.verdict is Verdict.FAILED


@dataclass(frozen=True)
class WaitRow:
    """One endpoint being waited for: where it is, and since when (seconds)."""

    address: str
    target: str
    state: str
    elapsed: float
    done: bool = False
    failed: bool = False
    error: str | None = None  # why it failed


class Reporter(Protocol):
    def step(self, change: ResourceChange, step: Action) -> None: ...
    def finished(self, outcome: Outcome) -> None: ...
    def waiting(self, rows: list[WaitRow]) -> None: ...
    def warn(self, text: str) -> None: ...


class SilentReporter:
    def step(self, change: ResourceChange, step: Action) -> None:
        pass

    def finished(self, outcome: Outcome) -> None:
        pass

    def waiting(self, rows: list[WaitRow]) -> None:
        pass

    def warn(self, text: str) -> None:
        pass


def scrubbed(outcome: Outcome, scrubber: Scrubber) -> Outcome:
    """`outcome` with the service's words in it (its error, its log lines, its smoke test's
    detail and answer) scrubbed: no secret value, token or URL userinfo, control characters
    escaped."""
    smoke = outcome.smoke
    if smoke is not None:
        smoke = replace(
            smoke, detail=scrubber.outside(smoke.detail), body=scrubber.maybe(smoke.body)
        )
    not_kept = tuple(
        replace(f, before=_scrubbed(f.before, scrubber), after=_scrubbed(f.after, scrubber))
        for f in outcome.not_kept
    )
    # Scrubbed, then cut: a cut first could leave the start of a secret value unrecognised.
    logs = tuple(clip(scrubber.outside(line), LOG_LINE_CHARS) for line in outcome.logs)
    return replace(
        outcome,
        error=scrubber.maybe(outcome.error),
        smoke=smoke,
        not_kept=not_kept,
        logs=logs,
    )


def _scrubbed(value: object, scrubber: Scrubber) -> object:
    """A value the service answered, fit to print and store (its strings scrubbed)."""
    if isinstance(value, str):
        return scrubber.outside(value)
    if isinstance(value, list):
        return [_scrubbed(v, scrubber) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, scrubber) for k, v in value.items()}
    return value


class Ledger:
    """A reporter that also keeps what was sent, so an interrupted apply can say it, and how far
    each change got: its answer (`outcomes`), its last waiting row (`waited`), and the outcomes
    of each stage once the stage is over (`made`: every change answered; `settled`: every
    endpoint waited for), for the history of an apply cut short.

    The apply's one choke point for what the service said: every outcome and waiting row goes
    through `scrubber` before it is reported or kept (and so before it is printed or stored)."""

    def __init__(
        self,
        inner: Reporter,
        scrubber: Scrubber | None = None,
        now: Callable[[], str] | None = None,
    ) -> None:
        self._inner = inner
        self.scrubber = scrubber or Scrubber()
        # When the service answered each change (`now`'s time stamps), by address: the time
        # its record says it was applied.
        self._now = now
        self.answered_at: dict[str, str] = {}
        self.sent: dict[str, list[Action]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.waited: dict[str, WaitRow] = {}
        self.made: list[Outcome] | None = None
        self.settled: list[Outcome] | None = None

    def step(self, change: ResourceChange, step: Action) -> None:
        self.sent.setdefault(change.address, []).append(step)
        self._inner.step(change, step)

    def finished(self, outcome: Outcome) -> None:
        outcome = scrubbed(outcome, self.scrubber)
        if self._now is not None and outcome.change.address not in self.answered_at:
            self.answered_at[outcome.change.address] = self._now()
        self.outcomes[outcome.change.address] = outcome
        self._inner.finished(outcome)

    def clean(self, outcomes: list[Outcome]) -> list[Outcome]:
        return [scrubbed(o, self.scrubber) for o in outcomes]

    def waiting(self, rows: list[WaitRow]) -> None:
        rows = [replace(r, error=self.scrubber.maybe(r.error)) for r in rows]
        self.waited.update((row.address, row) for row in rows)
        self._inner.waiting(rows)

    def warn(self, text: str) -> None:
        self._inner.warn(self.scrubber.outside(text))
