"""The planner: desired specs + the live fleet -> a `Plan`. Pure: no I/O, no clock, no env.

Decides, per endpoint, create / update in place / replace / pause / resume / delete / no-op,
with its reasons as codes plus the values their sentences need (`Reason`; the sentences are
`render.reasons`'); refuses to touch endpoints this stack does not own; keeps protected
endpoints; checks hardware against the namespace's hardware list, and what the plan adds
against the namespace's quota (`plan.quota`). Revisions are compared and deployed as the
commits the fleet's `commits` say they resolved to (read before planning); a repository or
revision the Hub would not resolve, or a pinned commit it answers with another, is an error at
the spec. A spec with a `schedule:` is planned as its schedule has it at `PlanOptions.now`
(`plan.schedule`), which the caller reads once; its tags still record the spec as written, so
crossing a window's edge is a pause, a resume or a scaling update, never drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from provisioner.hub.models import (
    Commit,
    Config,
    EndpointState,
    Fleet,
    LiveEndpoint,
    is_commit,
)
from provisioner.plan import ownership
from provisioner.plan.desired import (
    applied_digest,
    changed_attributes,
    create_config,
    create_refusal,
    paused_config,
    resumed_config,
    update_config,
)
from provisioner.plan.diff import SENSITIVE, diff
from provisioner.plan.document import fingerprint
from provisioner.plan.hardware import check_hardware
from provisioner.plan.model import (
    DEFAULT_BRANCH,
    Action,
    FieldChange,
    Plan,
    Reason,
    ReasonCode,
    ResourceChange,
    ScheduleNote,
    SecretsSeen,
    Seen,
)
from provisioner.plan.quota import check_quota
from provisioner.plan.readback import not_kept_apart, quoted
from provisioner.plan.schedule import iso, scheduled
from provisioner.spec.diagnostics import Address, Diagnostic, Mark, Severity
from provisioner.spec.fields import FIELDS, Flag, field_of, has_flag, rows_named
from provisioner.spec.model import DesiredState, EndpointSpec


@dataclass(frozen=True)
class PlanOptions:
    stack: str
    destroy: bool = False
    # Secret values cannot be read back, so a changed value is invisible; this sends them again.
    resend_secrets: bool = False
    # What a suggested command repeats to pick this stack and API (`--dir D --api-url U`): the
    # caller's to say, so the command works as printed; the planner cannot know it.
    command_options: str = ""
    # The instant schedules are evaluated at: the caller's clock (or `PROVISIONER_NOW`), read
    # once; the planner never reads one. Needed only when a spec has a `schedule:`.
    now: datetime | None = None
    # A scheduled run of a stack without `self_heal`: only what the schedules decide at `now`
    # is planned (their pauses, resumes and replica bounds, where the endpoint still has the
    # bounds last applied); every other difference is held: shown and reported as drift,
    # never applied (`ResourceChange.held`).
    scheduled_only: bool = False
    # Nobody watches this run (a merge's or a schedule's apply): a failed endpoint already
    # re-created once for its spec as it is (the state says) is not re-created again.
    unattended: bool = False
    # Plan again the values the last apply saw the service not keep (`plan.readback`).
    resend_not_kept: bool = False
    # Over quota (as provisioner counts it) is a warning, not an error: the service decides.
    allow_over_quota: bool = False


REVISION = "model.revision"
# What a schedule changes between windows: differences there are the schedule's, not drift.
SCHEDULED_PATHS = frozenset(
    {"scaling.min_replicas", "scaling.max_replicas", "scaling.scale_to_zero_timeout"}
)
# States an endpoint passes through on its way to running: it exists (and bills) but has not
# settled; a plan that finds one says so rather than a bare "matches".
SETTLING = frozenset({EndpointState.PENDING, EndpointState.INITIALIZING, EndpointState.UPDATING})


def revision_problem(spec: EndpointSpec, found: Commit | None) -> Diagnostic | None:
    """Why the spec's revision cannot be deployed: the token cannot read the repository
    (private, gated or absent), it has no such revision, or the Hub answered another commit
    for a pinned one."""
    if found is None:
        return None
    model, mark = spec.model, spec.source.mark
    if found.sha is not None and is_commit(model.revision) and found.sha != model.revision:
        # A pin is the reviewed commit itself: whatever the answer says (a branch shadowing
        # the sha, a proxy, a hostile Hub), deploying another commit would not be the review.
        return Diagnostic(
            mark("model", "revision"),
            f"model.revision: the Hub answered commit {found.sha} for pinned commit "
            f"{model.revision}: refusing to deploy a commit other than the pinned one",
        )
    if found.problem is None:
        return None
    if found.unknown_revision:
        return Diagnostic(
            mark("model", "revision"),
            f"model.revision: {model.revision!r} is not a branch, tag or commit of "
            f"{model.repository} ({found.problem})",
        )
    return Diagnostic(
        mark("model", "repository"),
        f"model.repository: the Hub does not let this token read {model.repository!r} "
        f"(private, gated or absent), so its revision cannot be resolved: {found.problem}",
    )


def _seen(live: LiveEndpoint | None) -> Seen:
    if live is None:
        return Seen(exists=False)
    return Seen(exists=True, state=live.state.value, fingerprint=fingerprint(live))


def _secret_refs(spec: EndpointSpec) -> dict[str, str]:
    """Secret name -> the environment variable its value is read from at apply time."""
    return {key: ref.from_env for key, ref in (spec.model.secrets or {}).items()}


def _protected(spec: EndpointSpec | None, live: LiveEndpoint) -> bool:
    return ownership.is_protected(live.config.tags) or bool(spec and spec.protect)


def _names(fields: Sequence[FieldChange]) -> str:
    """`a`, `a, b`, `a, b, c and 2 more`."""
    shown = [f.path for f in fields[:3]]
    more = f" and {len(fields) - 3} more" if len(fields) > 3 else ""
    return ", ".join(shown) + more


def _apart(
    fields: Sequence[FieldChange], rows: frozenset[str]
) -> tuple[list[FieldChange], tuple[FieldChange, ...]]:
    """`fields` without those of the rows named (by `ignore_changes`), and those."""
    if not rows:
        return list(fields), ()
    named = [f for f in fields if (row := field_of(f.path)) is not None and row.spec in rows]
    return [f for f in fields if f not in named], tuple(named)


def changed_outside(live: LiveEndpoint, applied: Config | None) -> frozenset[str]:
    """The rows (spec paths) whose live value is not the one the state recorded as last
    applied: someone changed them by hand. Replica counts of a paused endpoint (pausing zeroes
    them) and env values the record masks are not compared; nothing without a record."""
    if applied is None:
        return frozenset()
    paused = live.state is EndpointState.PAUSED
    rows = set()
    for row in FIELDS:
        if paused and Flag.REPLICAS in row.flags:
            continue
        now, then = getattr(live.config, row.attr), getattr(applied, row.attr)
        if row.attr == "env":
            now = {k: v for k, v in now.items() if then.get(k) != SENSITIVE}
            then = {k: v for k, v in then.items() if v != SENSITIVE}
        if row.attr == "secret_keys" and (now is None or then is None):
            continue
        if now != then:
            rows.add(row.spec)
    return frozenset(rows)


def _replacement(live: LiveEndpoint, fields: Sequence[FieldChange]) -> Reason | None:
    """Why `live` must be replaced rather than updated, if it must."""
    if live.state is EndpointState.FAILED:
        return Reason(ReasonCode.FAILED_REPLACE, message=live.message)
    forcing = tuple(f.path for f in fields if f.forces_replacement)
    if forcing:
        return Reason(ReasonCode.FORCES_REPLACEMENT, paths=forcing)
    return None


def _cause(reason: Reason, fields: Sequence[FieldChange]) -> str:
    """The replacement cause, worded for the diagnostic that refuses to replace a protected
    endpoint. Diagnostics are the planner's own words; plan reasons are worded by the renderer
    (`render.reasons`), which says the same thing in the plan."""
    if reason.code is ReasonCode.FAILED_REPLACE:
        message = f": {reason.message}" if reason.message else ""
        return f"it is in state failed{message}; the service cannot repair a failed endpoint"
    by_path = {f.path: f for f in fields}
    changes = ", ".join(f"{p} {by_path[p].before} -> {by_path[p].after}" for p in reason.paths)
    return f"{changes} cannot change in place"


def _state_step(spec: EndpointSpec, live: LiveEndpoint) -> Action | None:
    """Pause or resume, if the declared state asks for it."""
    paused = live.state is EndpointState.PAUSED
    if spec.state is DesiredState.PAUSED and not paused:
        return Action.PAUSE
    if spec.state is DesiredState.RUNNING and paused:
        return Action.RESUME
    if (
        spec.state is DesiredState.RUNNING
        and live.state is EndpointState.SCALED_TO_ZERO
        and spec.scaling.min_replicas > 0
    ):
        return Action.RESUME  # scaled to zero by hand although it must stay up
    return None


def _state_reason(
    spec: EndpointSpec, live: LiveEndpoint, step: Action | None, *, drift: bool, by_schedule: bool
) -> Reason | None:
    if by_schedule and step is Action.PAUSE:
        return Reason(ReasonCode.SCHEDULE_PAUSE, state=live.state.value)
    if by_schedule and step is Action.RESUME and live.state is EndpointState.PAUSED:
        return Reason(ReasonCode.SCHEDULE_RESUME)
    if step is Action.PAUSE:
        code = ReasonCode.RESUMED_OUTSIDE if drift else ReasonCode.PAUSE_DECLARED
        return Reason(code, state=live.state.value)
    if step is Action.RESUME and live.state is not EndpointState.PAUSED:
        return Reason(ReasonCode.SCALED_TO_ZERO_RESUME, min_replicas=spec.scaling.min_replicas)
    if step is Action.RESUME:
        return Reason(ReasonCode.PAUSED_OUTSIDE if drift else ReasonCode.RESUME_DECLARED)
    return None


def _state_steps(step: Action | None, *, update: bool) -> tuple[Action, ...]:
    """An update and a pause or resume, in the order apply runs them.

    The state step always comes first. Pausing first stops the billing at once, whatever
    happens to the update, which then finds the endpoint paused and leaves its replica counts
    alone (`update_config`). Resuming first, because resuming sets both counts to 1: the update
    then applies the declared ones (and the other changes) to the running endpoint; before the
    resume, counts >= 1 in an update would resume it themselves."""
    if step is Action.PAUSE:
        return (Action.PAUSE, Action.UPDATE) if update else (Action.PAUSE,)
    if step is Action.RESUME:
        return (Action.RESUME, Action.UPDATE) if update else (Action.RESUME,)
    return (Action.UPDATE,)


def _as_found(live: LiveEndpoint, step: Action | None) -> LiveEndpoint:
    """`live` as its update will find it, after the pause or resume that runs first."""
    if step is Action.PAUSE:
        return replace(live, config=paused_config(live.config))
    if step is Action.RESUME and live.state is EndpointState.PAUSED:
        return replace(live, config=resumed_config(live.config))
    return live


def _sends_secrets(spec: EndpointSpec, fields: Sequence[FieldChange], *, resend: bool) -> bool:
    return resend or (
        spec.model.secrets is not None and has_flag((f.path for f in fields), Flag.SECRET)
    )


@dataclass(frozen=True)
class _InPlace:
    """What happens to an existing endpoint short of replacing it, and why."""

    fields: tuple[FieldChange, ...]
    state_step: Action | None
    adopting: bool
    rewrite_tags: bool  # it carries ownership tags in the old form
    retry: bool  # its last update failed
    resend: bool  # --resend-secrets, and it has secrets
    # the secrets whose value changed since the last apply (state fingerprints)
    secrets_changed: tuple[str, ...]
    drift: bool  # it changed although the spec did not: someone changed it by hand
    moved: bool = False  # its revision's name resolves to another commit than it runs
    # its schedule (not a kill switch) decides its state and replica bounds
    by_schedule: bool = False
    # the rows whose live value is not the one last applied (the state's record): changed by
    # hand, whether or not the spec changes them too
    outside: frozenset[str] = frozenset()

    @property
    def update(self) -> bool:
        return (
            bool(self.fields)
            or self.adopting
            or self.rewrite_tags
            or self.retry
            or self.resend
            or bool(self.secrets_changed)
        )

    def reasons(self, spec: EndpointSpec, live: LiveEndpoint) -> tuple[Reason, ...]:
        reasons = []
        if self.adopting:
            reasons.append(Reason(ReasonCode.ADOPTING))
        if self.rewrite_tags:
            reasons.append(Reason(ReasonCode.TAGS_REWRITTEN))
        if self.retry:
            reasons.append(Reason(ReasonCode.UPDATE_FAILED_RETRY, message=live.message))
        if self.resend:
            reasons.append(Reason(ReasonCode.RESEND_SECRETS))
        elif self.secrets_changed:
            reasons.append(Reason(ReasonCode.SECRET_CHANGED, paths=self.secrets_changed))
        if self.moved:
            reasons.append(Reason(ReasonCode.REVISION_MOVED, paths=(REVISION,)))
        others = tuple(f.path for f in self.fields if not (self.moved and f.path == REVISION))
        timed = tuple(
            p
            for p in others
            if self.by_schedule and p in SCHEDULED_PATHS and _row(p) not in self.outside
        )
        others = tuple(p for p in others if p not in timed)
        if timed:
            reasons.append(Reason(ReasonCode.SCHEDULE_SCALING, paths=timed))
        by_hand = tuple(p for p in others if self.drift or _row(p) in self.outside)
        declared = tuple(p for p in others if p not in by_hand)
        if declared:
            reasons.append(Reason(ReasonCode.FIELDS_DIFFER, paths=declared))
        if by_hand:
            reasons.append(Reason(ReasonCode.CHANGED_OUTSIDE, paths=by_hand))
        state = _state_reason(
            spec, live, self.state_step, drift=self.drift, by_schedule=self.by_schedule
        )
        return (*reasons, state) if state else tuple(reasons)


def _scheduled_part(spec: EndpointSpec, live: LiveEndpoint, what: _InPlace) -> _InPlace:
    """What of `what` a scheduled run without `self_heal` applies: the pause or resume its
    schedule decides, and the replica bounds of its window where the endpoint still has those
    last applied (a count changed by hand since is drift, left alone)."""
    if not what.by_schedule:
        return _InPlace((), None, False, False, False, False, (), False)
    reason = _state_reason(spec, live, what.state_step, drift=False, by_schedule=True)
    due = reason is not None and reason.code in _SCHEDULE_STEPS
    return _InPlace(
        fields=tuple(
            f for f in what.fields if f.path in SCHEDULED_PATHS and f.path not in what.outside
        ),
        state_step=what.state_step if due else None,
        adopting=False,
        rewrite_tags=False,
        retry=False,
        resend=False,
        secrets_changed=(),
        drift=False,
        by_schedule=True,
        outside=what.outside,
    )


_SCHEDULE_STEPS = frozenset({ReasonCode.SCHEDULE_PAUSE, ReasonCode.SCHEDULE_RESUME})
# What a scheduled run without `self_heal` never does: no schedule creates, replaces or deletes.
_HELD = frozenset({Action.CREATE, Action.REPLACE, Action.DELETE})


def _held(change: ResourceChange) -> ResourceChange:
    """`change`, not made: what it would do kept as `held`, for the report."""
    return replace(
        change,
        action=Action.NOOP,
        steps=(),
        reasons=(Reason(ReasonCode.NOT_SCHEDULED),),
        desired=None,
        sends=(),
        secrets=None,
        fields=(),
        held=change.reasons,
        held_fields=change.fields,
    )


def _row(path: str) -> str | None:
    found = field_of(path)
    return None if found is None else found.spec


@dataclass
class _Planner:
    options: PlanOptions
    fleet: Fleet
    secrets: SecretsSeen
    # What the state recorded as last applied, by address (none: planned without a state).
    applied: Mapping[str, Config] = field(default_factory=dict)
    # The spec digest each failed endpoint was last re-created for, by address (the state's).
    recreated: Mapping[str, str] = field(default_factory=dict)
    # What the last apply sent and saw the service not keep, by address (the state's).
    unkept: Mapping[str, Sequence[FieldChange]] = field(default_factory=dict)

    notes: dict[tuple[str, str], ScheduleNote] = field(default_factory=dict)
    # The digest the tags record, per scheduled spec: of the spec as written (`plan.schedule`).
    digests: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.changes: list[ResourceChange] = []

    def digest(self, spec: EndpointSpec) -> str:
        return self.digests.get((spec.namespace or "", spec.name)) or applied_digest(spec)

    def by_schedule(self, spec: EndpointSpec) -> bool:
        note = self.notes.get((spec.namespace or "", spec.name))
        return note is not None and not note.kill_switch

    def scheduled(self, spec: EndpointSpec, live: LiveEndpoint | None) -> EndpointSpec:
        """The spec as its schedule has it at the plan's `now` (itself without a schedule)."""
        if spec.schedule is None:
            return spec
        if self.options.now is None:
            raise ValueError(f"spec {spec.name} has a schedule but the plan was given no `now`")
        digest = applied_digest(spec)
        in_force = live is not None and ownership.applied_digest(live.config.tags) == digest
        resolved, note = scheduled(spec, self.options.now, in_force=in_force)
        key = (spec.namespace or "", spec.name)
        self.digests[key] = digest
        if note is not None:
            self.notes[key] = note
        return resolved

    def error(self, mark: Mark, message: str) -> None:
        self.diagnostics.append(Diagnostic(mark, message))

    def hardware_ok(self, spec: EndpointSpec) -> bool:
        assert spec.namespace is not None
        hardware = self.fleet.hardware.get(spec.namespace)
        problem = None if hardware is None else check_hardware(spec, hardware)
        if problem is not None:
            self.diagnostics.append(problem)
        return problem is None

    def commit(self, spec: EndpointSpec) -> str | None:
        """The commit the spec's revision (or the default branch) resolved to, if resolved."""
        found = self.fleet.commits.get((spec.model.repository, spec.model.revision))
        return None if found is None else found.sha

    def revision_from(self, spec: EndpointSpec) -> str | None:
        if self.commit(spec) is None:
            return None
        return spec.model.revision or DEFAULT_BRANCH

    def revision_ok(self, spec: EndpointSpec) -> bool:
        key = (spec.model.repository, spec.model.revision)
        problem = revision_problem(spec, self.fleet.commits.get(key))
        if problem is not None:
            self.diagnostics.append(problem)
        return problem is None

    def compared(self, live: LiveEndpoint) -> LiveEndpoint:
        """`live` as the diff compares it: a branch or tag name in its revision (if the service
        echoes names) replaced by the commit it resolved to; its secret names the state's, when
        the state recorded them (a response may not echo them)."""
        recorded = self.secrets.recorded.get(live.address)
        if recorded is not None:
            live = replace(live, config=replace(live.config, secret_keys=frozenset(recorded)))
        revision = live.config.revision
        found = self.fleet.commits.get((live.config.repository, revision))
        if is_commit(revision) or found is None or found.sha is None:
            return live
        return replace(live, config=replace(live.config, revision=found.sha))

    def secrets_changed(self, spec: EndpointSpec, address: str) -> tuple[str, ...]:
        """The spec's secrets whose value (now) is not the one last applied."""
        recorded = self.secrets.recorded.get(address) or {}
        current = self.secrets.current.get(address, {})
        return tuple(
            sorted(
                name
                for name in spec.model.secrets or {}
                if name in recorded and name in current and recorded[name] != current[name]
            )
        )

    def creatable(self, spec: EndpointSpec, why: str = "") -> bool:
        refusal = create_refusal(spec)
        if refusal is not None:
            self.error(spec.source.mark("model", "engine"), refusal + why)
        return refusal is None

    def create(self, spec: EndpointSpec) -> None:
        assert spec.namespace is not None
        if not self.revision_ok(spec) or not self.creatable(spec) or not self.hardware_ok(spec):
            return
        steps: tuple[Action, ...] = (Action.CREATE,)
        reasons: tuple[Reason, ...] = (Reason(ReasonCode.DOES_NOT_EXIST),)
        if spec.state is DesiredState.PAUSED:
            steps = (Action.CREATE, Action.PAUSE)
            reasons += (Reason(ReasonCode.PAUSED_AFTER_CREATE),)
        self.changes.append(
            ResourceChange(
                spec.namespace,
                spec.name,
                Action.CREATE,
                reasons,
                _seen(None),
                steps=steps,
                desired=create_config(
                    spec,
                    stack=self.options.stack,
                    commit=self.commit(spec),
                    digest=self.digest(spec),
                ),
                secrets=_secret_refs(spec),
                source=str(spec.source.mark("name")),
                protected=spec.protect,
                revision_from=self.revision_from(spec),
            )
        )

    def replace(
        self, spec: EndpointSpec, live: LiveEndpoint, fields: list[FieldChange], why: Reason
    ) -> None:
        assert spec.namespace is not None
        if _protected(spec, live):
            self.error(
                spec.source.mark("name"),
                f"{live.address} is protected and must be replaced ({_cause(why, fields)}); "
                "apply 'protect: false' first, then this change",
            )
            return
        cause = f" (replacing {live.address}: {_cause(why, fields)})"
        if not self.creatable(spec, cause) or not self.hardware_ok(spec):
            return
        if ownership.owner(live.config.tags) is None:
            # Adopting never deletes: an endpoint this stack never owned is not its to replace.
            self.error(
                spec.source.mark("name"),
                f"{live.address} is not managed by provisioner yet and must be replaced "
                f"({_cause(why, fields)}): adopting it would delete it; delete it yourself "
                "(`hf endpoints delete`) and apply again to create it, or drop `adopt: true`",
            )
            return
        steps: tuple[Action, ...] = (Action.DELETE, Action.CREATE)
        if spec.state is DesiredState.PAUSED:
            steps += (Action.PAUSE,)
        self.changes.append(
            ResourceChange(
                spec.namespace,
                spec.name,
                Action.REPLACE,
                (why,),
                _seen(live),
                steps=steps,
                fields=tuple(fields),
                desired=create_config(
                    spec,
                    stack=self.options.stack,
                    commit=self.commit(spec),
                    digest=self.digest(spec),
                ),
                secrets=_secret_refs(spec),
                source=str(spec.source.mark("name")),
                revision_from=self.revision_from(spec),
            )
        )

    def import_command(self, live: LiveEndpoint) -> str:
        """`provisioner import NAME --namespace NS --dir D ...`: writes its spec into this stack."""
        options = f" {self.options.command_options}" if self.options.command_options else ""
        return f"provisioner import {live.name} --namespace {live.namespace}{options}"

    def owned(self, spec: EndpointSpec, live: LiveEndpoint, owner: str | None) -> bool:
        """May this stack change `live`? Records why not."""
        if owner is None and not spec.adopt:
            self.error(
                spec.source.mark("name"),
                f"{live.address} already exists and is not managed by provisioner: add "
                "`adopt: true` to this spec to take it over (the plan then shows what it "
                "changes), or rename this spec; to start from the endpoint as it is instead, "
                f"remove this spec and run `{self.import_command(live)}`",
            )
            return False
        if owner is not None and owner != self.options.stack:
            self.error(
                spec.source.mark("name"),
                f"{live.address} is managed by stack {owner!r}, not {self.options.stack!r}; "
                "a stack only changes its own endpoints",
            )
            return False
        return True

    def existing(self, spec: EndpointSpec, live: LiveEndpoint) -> None:
        owner = ownership.owner(live.config.tags)
        if not self.owned(spec, live, owner) or not self.revision_ok(spec):
            return
        step = _state_step(spec, live)
        compared, commit = self.compared(live), self.commit(spec)
        found = _as_found(compared, step)
        fields, ignored = _apart(diff(spec, found, commit=commit), rows_named(spec.ignore_changes))
        recorded = () if self.options.resend_not_kept else self.unkept.get(live.address, ())
        fields, unkept = not_kept_apart(fields, recorded)
        for entry in unkept:
            self.warn_not_kept(spec, entry)
        replacement = _replacement(live, fields)
        if replacement is not None and self.recreated_once(spec, live, replacement):
            self.changes.append(self.failed_again(spec, live, replacement))
            return
        if replacement is not None:
            # A new endpoint: its fields compare with the old one as it is.
            self.replace(spec, live, diff(spec, compared, commit=commit), replacement)
            return
        if has_flag((f.path for f in fields), Flag.HARDWARE) and not self.hardware_ok(spec):
            return
        image_fields = [f for f in fields if has_flag((f.path,), Flag.IMAGE)]
        if live.config.image.has_credentials and image_fields:
            self.error(
                spec.source.mark("model"),
                f"{live.address} pulls its image with registry credentials, which the API never "
                f"returns, so provisioner cannot change the image ({_names(image_fields)}) "
                "without wiping them; change it with `hf endpoints update` and the credentials",
            )
            return
        change = self.in_place(spec, live, found, fields, step=step, adopting=owner is None)
        again = self.unkept.get(live.address, ()) if self.options.resend_not_kept else ()
        resent = tuple(f.path for f in again if any(c.path == f.path for c in fields))
        if resent and change.action is Action.UPDATE:
            reason = Reason(ReasonCode.RESEND_NOT_KEPT, paths=resent)
            change = replace(change, reasons=(*change.reasons, reason))
        if unkept and not change.is_change:
            # It does not match: say what differs, and why nothing is planned for it.
            unmatched = Reason(ReasonCode.NOT_KEPT, paths=tuple(f.path for f in unkept))
            reasons = [unmatched if r.code is ReasonCode.MATCHES else r for r in change.reasons]
            change = replace(change, reasons=tuple(reasons))
        self.changes.append(replace(change, ignored=ignored, not_kept=unkept))

    def warn_not_kept(self, spec: EndpointSpec, field: FieldChange) -> None:
        sent, reported = quoted(field)
        options = f" {self.options.command_options}" if self.options.command_options else ""
        self.diagnostics.append(
            Diagnostic(
                spec.source.mark(*field.path.split(".")),
                f"{field.path}: not kept by the service: the last apply sent "
                f"{sent} and the service reports {reported}; it is "
                "not sent again until the spec's value or the service's answer changes (the "
                "engine may not support it: remove it from the spec, or `provisioner apply "
                f"--resend-not-kept{options}` to try again)",
                Severity.WARNING,
            )
        )

    def recreated_once(self, spec: EndpointSpec, live: LiveEndpoint, why: Reason) -> bool:
        """A failed endpoint an unattended run already re-created once for this very spec: it
        failed again, and doing the same again would only loop (delete, create, fail...)."""
        return (
            self.options.unattended
            and why.code is ReasonCode.FAILED_REPLACE
            and self.recreated.get(live.address) == self.digest(spec)
        )

    def failed_again(self, spec: EndpointSpec, live: LiveEndpoint, why: Reason) -> ResourceChange:
        assert spec.namespace is not None
        return ResourceChange(
            spec.namespace,
            spec.name,
            Action.NOOP,
            (Reason(ReasonCode.FAILED_AGAIN, message=live.message),),
            _seen(live),
            source=str(spec.source.mark("name")),
            protected=_protected(spec, live),
            held=(why,),
        )

    def in_place(
        self,
        spec: EndpointSpec,
        live: LiveEndpoint,
        found: LiveEndpoint,
        fields: list[FieldChange],
        *,
        step: Action | None,
        adopting: bool,
    ) -> ResourceChange:
        # A name that now resolves to another commit is not the endpoint changing by hand.
        moved = self.commit(spec) is not None and not is_commit(spec.model.revision)
        moved = moved and any(f.path == REVISION for f in fields)
        others = [f for f in fields if not (moved and f.path == REVISION)]
        timed = self.by_schedule(spec)
        outside = changed_outside(self.compared(live), self.applied.get(live.address))
        if timed:
            # What the schedule moves (state, replica bounds) is never drift: it is due; unless
            # it is not what was last applied either (changed by hand since).
            others = [f for f in others if f.path not in SCHEDULED_PATHS or f.path in outside]
        ignoring = rows_named(spec.ignore_changes)
        what = _InPlace(
            fields=tuple(fields),
            state_step=step,
            adopting=adopting,
            rewrite_tags=ownership.needs_rewrite(live.config.tags),
            retry=live.state is EndpointState.UPDATE_FAILED,
            resend=self.options.resend_secrets and bool(spec.model.secrets),
            secrets_changed=()
            if "model.secrets" in ignoring
            else self.secrets_changed(spec, live.address),
            drift=bool(others or (step and not timed))
            and ownership.applied_digest(live.config.tags) == self.digest(spec),
            moved=moved,
            by_schedule=timed,
            outside=outside,
        )
        keep = ignoring
        held: tuple[Reason, ...] = ()
        held_fields: tuple[FieldChange, ...] = ()
        if self.options.scheduled_only:
            full = what.reasons(spec, live)
            what = _scheduled_part(spec, live, what)
            kept = set(what.reasons(spec, live))
            held = tuple(r for r in full if r not in kept)
            held_fields = tuple(f for f in fields if f not in what.fields)
            keep = keep | {row.spec for row in FIELDS if row.spec not in SCHEDULED_PATHS}
        if not what.update and what.state_step is None:
            change = self.noop(spec, live)
            if held:  # it does not match: this run leaves what differs alone
                rest = tuple(r for r in change.reasons if r.code is not ReasonCode.MATCHES)
                change = replace(change, reasons=(Reason(ReasonCode.NOT_SCHEDULED), *rest))
        else:
            change = self.updated(spec, live, found, what, keep=frozenset(keep))
        return replace(change, held=held, held_fields=held_fields)

    def updated(
        self,
        spec: EndpointSpec,
        live: LiveEndpoint,
        found: LiveEndpoint,
        what: _InPlace,
        *,
        keep: frozenset[str] = frozenset(),
    ) -> ResourceChange:
        assert spec.namespace is not None
        steps = _state_steps(what.state_step, update=what.update)
        send_secrets = _sends_secrets(
            spec, what.fields, resend=what.resend or bool(what.secrets_changed)
        )
        # Planned against the endpoint as the pause or resume before the update leaves it.
        desired = (
            update_config(
                spec,
                found.config,
                stack=self.options.stack,
                commit=self.commit(spec),
                digest=self.digest(spec),
                keep=keep,
            )
            if what.update
            else None
        )
        return ResourceChange(
            spec.namespace,
            spec.name,
            Action.UPDATE if what.update else steps[0],
            what.reasons(spec, live),
            _seen(live),
            steps=steps,
            fields=what.fields,
            drift=what.drift,
            desired=desired,
            sends=() if desired is None else changed_attributes(desired, found.config),
            secrets=_secret_refs(spec) if send_secrets else None,
            source=str(spec.source.mark("name")),
            protected=_protected(spec, live),
            revision_from=None if desired is None else self.revision_from(spec),
        )

    def noop(self, spec: EndpointSpec, live: LiveEndpoint) -> ResourceChange:
        assert spec.namespace is not None
        reasons: tuple[Reason, ...] = (Reason(ReasonCode.MATCHES),)
        if live.state is EndpointState.SCALED_TO_ZERO:
            reasons = (Reason(ReasonCode.SCALED_TO_ZERO_IDLE), *reasons)
        elif live.state in SETTLING:
            reasons = (*reasons, Reason(ReasonCode.NOT_SETTLED, state=live.state.value))
        return ResourceChange(
            spec.namespace,
            spec.name,
            Action.NOOP,
            reasons,
            _seen(live),
            source=str(spec.source.mark("name")),
            protected=_protected(spec, live),
        )

    def orphan(self, live: LiveEndpoint, spec: EndpointSpec | None = None) -> None:
        """Delete an endpoint of this stack that no spec keeps (or, under destroy, all of them);
        `protect: true` in a spec still present counts even before it was ever applied."""
        why = Reason(
            ReasonCode.DESTROY_REQUESTED if self.options.destroy else ReasonCode.SPEC_REMOVED
        )
        if _protected(spec, live):
            self.changes.append(
                ResourceChange(
                    live.namespace,
                    live.name,
                    Action.NOOP,
                    (why, Reason(ReasonCode.PROTECTED_KEPT)),
                    _seen(live),
                    protected=True,
                    refused=True,
                )
            )
            return
        self.changes.append(
            ResourceChange(
                live.namespace,
                live.name,
                Action.DELETE,
                (why,),
                _seen(live),
                steps=(Action.DELETE,),
            )
        )

    def unreadable(self, desired: Sequence[EndpointSpec]) -> list[EndpointSpec]:
        """The specs that can be planned. A name the API listed but whose item could not be
        read is neither created (it exists) nor deleted (its ownership is unknown or its
        state unreadable): a spec naming it is an error; otherwise, when it is (or may be)
        this stack's, a warning names it."""
        every = [u for g in self.fleet.unreadable.values() for u in g]
        listed = {(u.namespace, u.name): u for u in every if u.name is not None}
        # Items without a usable name (none, or one failing the name rule) are each said.
        nameless = [u for u in every if u.name is None]
        plannable = []
        for spec in desired:
            found = listed.pop((spec.namespace or "", spec.name), None)
            if found is None:
                plannable.append(spec)
                continue
            # Destroying the rest is not held up by it; nothing else may go on without it.
            severity = Severity.WARNING if self.options.destroy else Severity.ERROR
            self.diagnostics.append(
                Diagnostic(
                    spec.source.mark("name"),
                    f"{found.address} is listed by the API but cannot be read ({found.problem}); "
                    "provisioner plans nothing for it until the API returns it whole",
                    severity,
                )
            )
        for found in [*listed.values(), *nameless]:
            owner = None if found.tags is None else ownership.owner(found.tags)
            if found.tags is None or owner == self.options.stack:
                whose = "this stack's" if owner else "perhaps this stack's"
                self.diagnostics.append(
                    Diagnostic(
                        Address(found.namespace, found.name or "?"),
                        f"{found.address} ({whose}) is listed by the API but cannot be read "
                        f"({found.problem}); it is left out of this plan",
                        Severity.WARNING,
                    )
                )
        return plannable

    def run(self, desired: Sequence[EndpointSpec]) -> Plan:
        live_by_key = self.fleet.index()
        wanted: set[tuple[str, str]] = set()
        desired = self.unreadable(desired)
        if not self.options.destroy:
            for spec in sorted(desired, key=lambda s: (s.namespace or "", s.name)):
                if spec.namespace is None:
                    raise ValueError(f"spec {spec.name} has no resolved namespace")
                key = (spec.namespace, spec.name)
                wanted.add(key)
                live = live_by_key.get(key)
                spec = self.scheduled(spec, live)
                if live is None:
                    self.create(spec)
                else:
                    self.existing(spec, live)
        declared = {(s.namespace, s.name): s for s in desired}
        for key, live in sorted(live_by_key.items()):
            if key not in wanted and ownership.owner(live.config.tags) == self.options.stack:
                self.orphan(live, declared.get(key))
        if self.options.scheduled_only:
            self.changes = [_held(c) if c.action in _HELD else c for c in self.changes]
        # What a schedule pauses holds no quota: the changes, planned from the specs as their
        # schedules resolve them, say so; the specs only place each diagnostic (their source).
        self.diagnostics.extend(
            check_quota(
                self.changes,
                desired,
                self.fleet,
                allowed=self.options.allow_over_quota,
            )
        )
        changes = [
            replace(c, schedule=self.notes[(c.namespace, c.name)])
            if (c.namespace, c.name) in self.notes
            else c
            for c in self.changes
        ]
        now = self.options.now
        return Plan(
            stack=self.options.stack,
            changes=tuple(sorted(changes, key=lambda c: (c.namespace, c.name))),
            now=None if now is None or not self.notes else iso(now),
            diagnostics=tuple(sorted(self.diagnostics)),
            destroy=self.options.destroy,
            namespaces=tuple(sorted(self.fleet.endpoints)),
        )


def build_plan(
    desired: Sequence[EndpointSpec],
    fleet: Fleet,
    options: PlanOptions,
    secrets: SecretsSeen | None = None,
    applied: Mapping[str, Config] | None = None,
    recreated: Mapping[str, str] | None = None,
    not_kept: Mapping[str, Sequence[FieldChange]] | None = None,
) -> Plan:
    """The plan that makes `fleet` match `desired` for stack `options.stack`. `secrets` is
    what the stack's state knows of secret values (None: planned without a state); `applied`,
    the configuration it recorded as last applied to each endpoint, by address (a field whose
    live value is not that one was changed by hand); `recreated`, the spec digest each failed
    endpoint was last re-created for; `not_kept`, what the last apply sent and saw the service
    not keep, by address (`plan.readback`)."""
    plan = _Planner(
        options, fleet, secrets or SecretsSeen(), applied or {}, recreated or {}, not_kept or {}
    ).run(desired)
    return plan if secrets is None else replace(plan, state_serial=secrets.serial)
