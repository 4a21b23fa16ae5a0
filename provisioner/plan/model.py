"""The plan as data: what will change, in which order, why, and what the plan saw.

Plain frozen values, serialisable (see `document`), with no behaviour beyond small derived
properties, so renderers, the executor, saved plans and later PR tooling share one model.
*Why* is data too: a `Reason` is a stable code plus the values its sentence needs; the words
belong to `provisioner.render.reasons`, and nothing decides anything by a reason.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner import __version__
from provisioner.hub.models import Config
from provisioner.plan.cost import Cost
from provisioner.spec.diagnostics import Diagnostic, Severity


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    PAUSE = "pause"
    RESUME = "resume"
    NOOP = "no-op"


class ReasonCode(enum.StrEnum):
    """Why a change is planned. Stable: pipelines filter saved and `--json` plans on these."""

    # create
    DOES_NOT_EXIST = "does-not-exist"
    PAUSED_AFTER_CREATE = "paused-after-create"  # state: paused, so paused once created
    # update in place (several may hold at once)
    ADOPTING = "adopting"  # adopt: true on an endpoint no stack owns: adds ownership tags
    TAGS_REWRITTEN = "ownership-tags-rewritten"  # old `provisioner.stack=` form: tags-only update
    UPDATE_FAILED_RETRY = "update-failed-retry"  # its last update failed: send it again
    RESEND_SECRETS = "resend-secrets"  # --resend-secrets
    # --resend-not-kept: values the last apply sent and the service did not keep (paths)
    RESEND_NOT_KEPT = "resend-not-kept"
    # the value behind a secret is not the one last applied (state fingerprints; paths: names)
    SECRET_CHANGED = "secret-changed"
    FIELDS_DIFFER = "fields-differ"  # the spec changed since the last apply (paths)
    CHANGED_OUTSIDE = "changed-outside"  # the spec did not change, the endpoint did (paths)
    # the declared branch or tag (or the default branch) is at another commit than the endpoint
    # runs: pushed to since the last apply (or the endpoint's revision was changed by hand)
    REVISION_MOVED = "revision-moved"
    # pause / resume (at most one, next to any of the update reasons)
    PAUSE_DECLARED = "pause-declared"  # state: paused declared, it is not (state)
    RESUMED_OUTSIDE = "resumed-outside"  # applied paused, someone resumed it (state)
    RESUME_DECLARED = "resume-declared"  # state: running declared, it is paused
    PAUSED_OUTSIDE = "paused-outside"  # applied running, someone paused it
    SCALED_TO_ZERO_RESUME = "scaled-to-zero-resume"  # at zero although min_replicas > 0
    # `schedule:` decided it at the plan's `now` (the change's `schedule` says which window)
    SCHEDULE_PAUSE = "schedule-pause"  # outside every window, `outside: paused`
    SCHEDULE_RESUME = "schedule-resume"  # a window opened
    SCHEDULE_SCALING = "schedule-scaling"  # the replica bounds of the window, or outside (paths)
    # replace (exactly one)
    FAILED_REPLACE = "failed-replace"  # in state failed (message): only a new one helps
    FORCES_REPLACEMENT = "forces-replacement"  # fields that cannot change in place (paths)
    # delete, or kept although its delete was due
    SPEC_REMOVED = "spec-removed"
    DESTROY_REQUESTED = "destroy-requested"
    PROTECTED_KEPT = "protected-kept"  # follows spec-removed or destroy-requested
    # follows spec-removed or destroy-requested: some spec files cannot be read, and no spec
    # that loads names the endpoint, so its spec (and its `protect:`) may be one of them: kept
    SPEC_UNREADABLE_KEPT = "spec-unreadable-kept"
    # `provisioner release`: the stack's tags are removed, the endpoint is left running
    RELEASED = "released"
    # failed (message) after an unattended run re-created it for this very spec: not
    # re-created again unattended (held: what a person's apply would do)
    FAILED_AGAIN = "failed-again"
    # held by a scheduled run (no `self_heal`): a create, replacement or delete it leaves to an
    # apply a person reviewed (what it would do: the change's `held`)
    NOT_SCHEDULED = "not-scheduled"
    # no-op
    SCALED_TO_ZERO_IDLE = "scaled-to-zero-idle"  # at zero (idle, or by hand); a request wakes it
    # matches its spec but has not settled yet (pending, initializing, updating: state), say
    # after an apply whose wait timed out: it exists and bills, and is not running yet
    NOT_SETTLED = "not-settled"
    MATCHES = "matches"
    # matches, except values the last apply sent and the service did not keep (paths)
    NOT_KEPT = "not-kept"


# `ResourceChange.revision_from` of a spec that declares no revision (no git ref has a space).
DEFAULT_BRANCH = "default branch"


@dataclass(frozen=True)
class Reason:
    """One reason for a change, as Terraform's `ActionReason`: for people and pipelines only.

    Apply never branches on a reason; it follows the change's action and steps. Only the fields
    a code needs are set: `paths` (the fields concerned, in diff order), `state` (the live state
    it refers to), `message` (the service's message about the endpoint), `min_replicas`.
    """

    code: ReasonCode
    paths: tuple[str, ...] = ()
    state: str | None = None
    message: str | None = None
    min_replicas: int | None = None


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
class ScheduleNote:
    """What an endpoint's `schedule:` decided at the plan's `now`; the renderers word it.

    `state` is running, paused or scaled-to-zero; `window` the label of the window holding
    (None: outside every window); `until` the next instant (UTC, ISO 8601) at which that
    changes, and `until_local` the same on the zone's clock (`Fri 20:00 CET`). `kill_switch`:
    the spec says `state: paused`, which wins over the schedule (no `until` then). `week`:
    (share of the week, min, max replicas) per window and outside them, for the cost estimate;
    `in_force`: the live endpoint was last applied from this same spec, schedule included, so
    its cost today is the scheduled one too."""

    timezone: str
    state: str
    window: str | None = None
    until: str | None = None
    until_local: str | None = None
    kill_switch: bool = False
    week: tuple[tuple[float, int, int], ...] = ()
    in_force: bool = False


@dataclass(frozen=True)
class ResourceChange:
    namespace: str
    name: str
    action: Action
    reasons: tuple[Reason, ...]
    seen: Seen
    steps: tuple[Action, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    drift: bool = False
    # What create/update send (API-level, complete). `secrets` maps each secret to the
    # environment variable its value is read from when apply runs; None means "send no secrets"
    # (the endpoint keeps its own), an empty mapping means "remove them all".
    desired: Config | None = None
    # The `Config` attributes an update sends: only what changed (the service merges a PUT
    # sparsely and keeps what is absent), so a tags-only change sends only tags.
    sends: tuple[str, ...] = ()
    secrets: Mapping[str, str] | None = None
    source: str | None = None
    protected: bool = False
    # Protection refused the delete this endpoint would otherwise get (spec removed, destroy).
    refused: bool = False
    # The name `desired.revision` (a commit) was resolved from at plan time: the declared
    # revision, or `DEFAULT_BRANCH` when the spec declares none; None when nothing was resolved.
    revision_from: str | None = None
    # Its monthly cost before and after (`plan/estimate.py`); None: not estimated.
    cost: Cost | None = None
    # What its schedule decided (None: no `schedule:`).
    schedule: ScheduleNote | None = None
    # Differences not planned because the spec's `ignore_changes` lists their field: shown,
    # never applied, never part of the changes digest.
    ignored: tuple[FieldChange, ...] = ()
    # What a full apply would also do that this run does not (a scheduled run of a stack
    # without `self_heal`: it changes only what the schedules say), as reasons, and the fields
    # concerned: reported as drift, never applied, never part of the changes digest.
    held: tuple[Reason, ...] = ()
    held_fields: tuple[FieldChange, ...] = ()
    # Differences the last apply sent and saw the service not keep (the state's record of the
    # endpoint, `plan.readback`): shown as "not kept by the service", not planned again until
    # the spec or the service changes (or `--resend-not-kept`), never part of the digest.
    not_kept: tuple[FieldChange, ...] = ()

    @property
    def address(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def is_change(self) -> bool:
        return self.action is not Action.NOOP

    @property
    def shown(self) -> bool:
        """Listed in a plan: a change, a refusal, or a difference ignored, held or not kept."""
        return (
            self.is_change
            or self.refused
            or bool(self.ignored)
            or bool(self.held)
            or bool(self.not_kept)
        )


@dataclass(frozen=True)
class SecretsSeen:
    """What the stack's state knows of each endpoint's secrets, and what the environment holds
    now, as keyed fingerprints (never values): the planner's only view of secret values.

    `recorded`: address -> secret name -> fingerprint of the value last sent; an address with
    None has a record made before provisioner sent its secrets (names unknown), an absent
    address has no record. `current`: every address whose spec declares secrets -> name ->
    fingerprint of the value its variable holds now; `unset`: address -> names whose variable
    is not set here (a PR job without secrets): a change of those values cannot be seen.
    `available`: the names of the variables the apply side had set when it last ran (the
    state's `secret_variables`; None: never recorded), so a plan without values can tell
    whether apply will find one."""

    recorded: Mapping[str, Mapping[str, str] | None] = field(default_factory=dict)
    current: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    unset: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    serial: int = 0  # the state serial these were read at
    available: frozenset[str] | None = None
    # The state holds fingerprints but the key they were made with is gone (deleted): no
    # value can be compared until they are sent again under a new key.
    key_missing: bool = False


@dataclass(frozen=True)
class SpecDir:
    """The folder a plan's specs were read from: as the command was given it (relative to where
    it ran, when it was relative) and as an absolute path. `apply PLAN` without `--dir` goes
    back there: to the absolute path, else (a checkout moved, as between two CI jobs) the
    given one from where apply runs. The stack name the plan records must then match."""

    given: str
    absolute: str


@dataclass(frozen=True)
class Plan:
    stack: str
    changes: tuple[ResourceChange, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    destroy: bool = False
    namespaces: tuple[str, ...] = ()
    # The state serial the plan was made at: a saved plan applies only over the same serial
    # (another apply in between makes it stale). None: made without a state.
    state_serial: int | None = None
    # The `--target` patterns the plan was narrowed to (`plan.targets`); empty: the whole stack.
    targets: tuple[str, ...] = ()
    # Where the stack's specs were read from; None when not planned from a folder (tests).
    spec_dir: SpecDir | None = None
    # The instant schedules were evaluated at (UTC, ISO 8601); None: no spec has a schedule.
    now: str | None = None
    # The provisioner that made the plan (a saved plan keeps its maker's; None: a plan saved
    # before 1.6, which did not record it).
    provisioner_version: str | None = __version__

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
    def held(self) -> tuple[ResourceChange, ...]:
        """The changes with something a full apply would do and this run does not."""
        return tuple(c for c in self.changes if c.held)

    @property
    def refused(self) -> tuple[ResourceChange, ...]:
        return tuple(c for c in self.changes if c.refused)

    def counts(self) -> dict[Action, int]:
        counts = dict.fromkeys(Action, 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts
