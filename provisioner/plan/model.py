"""The plan as data: what will change, in which order, why, and what the plan saw.

Plain frozen values, serialisable (see `document`), with no behaviour beyond small derived
properties, so renderers, the executor, saved plans and later PR tooling share one model.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.hub.models import Config
from provisioner.spec.diagnostics import Diagnostic, Severity


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    PAUSE = "pause"
    RESUME = "resume"
    NOOP = "no-op"


@dataclass(frozen=True)
class FieldChange:
    """One field that differs. Values are JSON-ready; a sensitive field never carries values."""

    path: str
    before: Any = None
    after: Any = None
    forces_replacement: bool = False
    sensitive: bool = False


@dataclass(frozen=True)
class Seen:
    """What the plan saw of the live endpoint, so apply can refuse a stale plan."""

    exists: bool
    state: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class ResourceChange:
    namespace: str
    name: str
    action: Action
    reason: str
    seen: Seen
    steps: tuple[Action, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    drift: bool = False
    # What create/update send (API-level, complete). `secrets` maps each secret to the
    # environment variable its value is read from when apply runs; None means "send no secrets"
    # (the endpoint keeps its own), an empty mapping means "remove them all".
    desired: Config | None = None
    secrets: Mapping[str, str] | None = None
    source: str | None = None
    protected: bool = False
    # Protection refused the delete this endpoint would otherwise get (spec removed, destroy).
    refused: bool = False

    @property
    def address(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def is_change(self) -> bool:
        return self.action is not Action.NOOP


@dataclass(frozen=True)
class Plan:
    stack: str
    changes: tuple[ResourceChange, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    destroy: bool = False
    namespaces: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def actionable(self) -> tuple[ResourceChange, ...]:
        return tuple(c for c in self.changes if c.is_change)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    @property
    def refused(self) -> tuple[ResourceChange, ...]:
        return tuple(c for c in self.changes if c.refused)

    def counts(self) -> dict[Action, int]:
        counts = dict.fromkeys(Action, 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts
