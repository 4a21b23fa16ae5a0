"""The planner: desired specs + the live fleet -> a `Plan`. Pure: no I/O, no clock, no env.

Decides, per endpoint, create / update in place / replace / pause / resume / delete / no-op,
with a human reason for each; refuses to touch endpoints this stack does not own; keeps
protected endpoints; checks hardware against the namespace's hardware list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from provisioner.hub.models import EndpointState, Fleet, Hardware, LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.desired import applied_digest, create_config, update_config
from provisioner.plan.document import fingerprint
from provisioner.plan.fields import diff
from provisioner.plan.model import Action, FieldChange, Plan, ResourceChange, Seen
from provisioner.spec.diagnostics import Diagnostic, Mark
from provisioner.spec.model import DesiredState, EndpointSpec

IMAGE_PATHS = ("model.engine", "model.image.", "model.engine_options.")


@dataclass(frozen=True)
class PlanOptions:
    stack: str
    destroy: bool = False
    # Secret values cannot be read back, so a changed value is invisible; this sends them again.
    resend_secrets: bool = False


def _seen(live: LiveEndpoint | None) -> Seen:
    if live is None:
        return Seen(exists=False)
    return Seen(exists=True, state=live.state.value, fingerprint=fingerprint(live))


def _listing(values: Sequence[str]) -> str:
    return ", ".join(sorted(set(values))) or "none"


def check_hardware(spec: EndpointSpec, hardware: Sequence[Hardware]) -> Diagnostic | None:
    """Is the spec's compute offered to its namespace, and deployable?"""
    c = spec.compute
    mark = spec.source.mark
    where = f"{c.vendor}/{c.region}"
    in_vendor = [h for h in hardware if h.vendor == c.vendor]
    in_region = [h for h in in_vendor if h.region == c.region]
    if not in_region:
        regions = _listing([h.region for h in in_vendor])
        return Diagnostic(
            mark("compute", "region"),
            f"compute.region: {c.vendor} offers no region {c.region!r} to namespace "
            f"{spec.namespace}; regions: {regions}",
        )
    of_type = [h for h in in_region if h.instance_type == c.instance_type]
    if not of_type:
        types = _listing([h.instance_type for h in in_region if h.accelerator == c.accelerator])
        return Diagnostic(
            mark("compute", "instance_type"),
            f"compute.instance_type: {c.instance_type!r} is not offered in {where}; "
            f"{c.accelerator} types there: {types}",
        )
    if all(h.accelerator != c.accelerator for h in of_type):
        return Diagnostic(
            mark("compute", "accelerator"),
            f"compute.accelerator: {c.instance_type} in {where} is a {of_type[0].accelerator} "
            f"instance, not {c.accelerator}",
        )
    rows = [h for h in of_type if h.instance_size == c.instance_size]
    if not rows:
        sizes = sorted({h.instance_size for h in of_type}, key=lambda s: int(s[1:] or 0))
        return Diagnostic(
            mark("compute", "instance_size"),
            f"compute.instance_size: {c.instance_type} in {where} comes in {', '.join(sizes)}, "
            f"not {c.instance_size}",
        )
    row = rows[0]
    if not row.deployable:
        others = _listing(
            [h.instance_type for h in in_region if h.accelerator == c.accelerator and h.deployable]
        )
        return Diagnostic(
            mark("compute", "instance_type"),
            f"compute.instance_type: {c.instance_type} {c.instance_size} in {where} is "
            f"{row.status.replace('_', ' ')}: the service will not deploy it; deployable "
            f"{c.accelerator} types there: {others}",
        )
    return None


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


@dataclass
class _Planner:
    options: PlanOptions
    fleet: Fleet

    def __post_init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.changes: list[ResourceChange] = []

    def error(self, mark: Mark, message: str) -> None:
        self.diagnostics.append(Diagnostic(mark, message))

    def hardware_ok(self, spec: EndpointSpec) -> bool:
        assert spec.namespace is not None
        hardware = self.fleet.hardware.get(spec.namespace)
        problem = None if hardware is None else check_hardware(spec, hardware)
        if problem is not None:
            self.diagnostics.append(problem)
        return problem is None

    def create(self, spec: EndpointSpec) -> None:
        assert spec.namespace is not None
        if not self.hardware_ok(spec):
            return
        steps: tuple[Action, ...] = (Action.CREATE,)
        reason = "does not exist yet"
        if spec.state is DesiredState.PAUSED:
            steps = (Action.CREATE, Action.PAUSE)
            reason += "; paused right after creation (state: paused)"
        self.changes.append(
            ResourceChange(
                spec.namespace,
                spec.name,
                Action.CREATE,
                reason,
                _seen(None),
                steps=steps,
                desired=create_config(spec, stack=self.options.stack),
                secrets=_secret_refs(spec),
                source=str(spec.source.mark("name")),
                protected=spec.protect,
            )
        )

    def replace(
        self, spec: EndpointSpec, live: LiveEndpoint, fields: list[FieldChange], why: str
    ) -> None:
        assert spec.namespace is not None
        if _protected(spec, live):
            self.error(
                spec.source.mark("name"),
                f"{live.address} is protected and must be replaced ({why}); apply "
                "'protect: false' first, then this change",
            )
            return
        if not self.hardware_ok(spec):
            return
        steps: tuple[Action, ...] = (Action.DELETE, Action.CREATE)
        if spec.state is DesiredState.PAUSED:
            steps += (Action.PAUSE,)
        self.changes.append(
            ResourceChange(
                spec.namespace,
                spec.name,
                Action.REPLACE,
                f"{why}: deleted, then created again (the URL changes)",
                _seen(live),
                steps=steps,
                fields=tuple(fields),
                desired=create_config(spec, stack=self.options.stack),
                secrets=_secret_refs(spec),
                source=str(spec.source.mark("name")),
            )
        )

    def existing(self, spec: EndpointSpec, live: LiveEndpoint) -> None:
        assert spec.namespace is not None
        owner = ownership.owner(live.config.tags)
        if owner is None and not spec.adopt:
            self.error(
                spec.source.mark("name"),
                f"{live.address} already exists and is not managed by provisioner; run "
                f"`provisioner import {spec.name}` to adopt it, or rename this spec",
            )
            return
        if owner is not None and owner != self.options.stack:
            self.error(
                spec.source.mark("name"),
                f"{live.address} is managed by stack {owner!r}, not {self.options.stack!r}; "
                "a stack only changes its own endpoints",
            )
            return
        fields = diff(spec, live)
        if live.state is EndpointState.FAILED:
            message = f": {live.message}" if live.message else ""
            why = f"it is in state failed{message}; the service cannot repair a failed endpoint"
            self.replace(spec, live, fields, why)
            return
        forcing = [f for f in fields if f.forces_replacement]
        if forcing:
            changes = ", ".join(f"{f.path} {f.before} -> {f.after}" for f in forcing)
            self.replace(spec, live, fields, f"{changes} cannot change in place")
            return
        if any(f.path.startswith("compute.") for f in fields) and not self.hardware_ok(spec):
            return
        image_fields = [f for f in fields if f.path.startswith(IMAGE_PATHS)]
        if live.config.image.has_credentials and image_fields:
            self.error(
                spec.source.mark("model"),
                f"{live.address} pulls its image with registry credentials, which the API never "
                f"returns, so provisioner cannot change the image ({_names(image_fields)}) "
                "without wiping them; change it with `hf endpoints update` and the credentials",
            )
            return
        self.in_place(spec, live, fields, adopting=owner is None)

    def in_place(
        self, spec: EndpointSpec, live: LiveEndpoint, fields: list[FieldChange], *, adopting: bool
    ) -> None:
        assert spec.namespace is not None
        paused = live.state is EndpointState.PAUSED
        state_step: Action | None = None
        if spec.state is DesiredState.PAUSED and not paused:
            state_step = Action.PAUSE
        elif spec.state is DesiredState.RUNNING and paused:
            state_step = Action.RESUME
        elif (
            spec.state is DesiredState.RUNNING
            and live.state is EndpointState.SCALED_TO_ZERO
            and spec.scaling.min_replicas > 0
        ):
            state_step = Action.RESUME  # scaled to zero by hand although it must stay up
        retry = live.state is EndpointState.UPDATE_FAILED
        resend = self.options.resend_secrets and bool(spec.model.secrets)
        update = bool(fields) or adopting or retry or resend
        drift = bool(fields or state_step) and ownership.applied_digest(
            live.config.tags
        ) == applied_digest(spec)
        reasons = []
        if adopting:
            reasons.append("adopting an existing endpoint (adopt: true): adds ownership tags")
        if retry:
            message = f" ({live.message})" if live.message else ""
            reasons.append(f"its last update failed{message}; sending the declared configuration")
        if resend:
            reasons.append("secrets sent again (--resend-secrets)")
        if fields:
            if drift:
                reasons.append(f"{_names(fields)} changed outside provisioner")
            else:
                verb = "differ" if len(fields) > 1 else "differs"
                reasons.append(f"{_names(fields)} {verb} from the spec")
        if state_step is Action.PAUSE:
            reasons.append(
                f"resumed outside provisioner (it is {live.state}); state: paused declared"
                if drift
                else f"state: paused declared, it is {live.state}"
            )
        elif state_step is Action.RESUME and not paused:
            reasons.append(
                f"scaled to zero although min_replicas is {spec.scaling.min_replicas}: resumed"
            )
        elif state_step is Action.RESUME:
            reasons.append(
                "paused outside provisioner; state: running declared"
                if drift
                else "state: running declared, it is paused"
            )
        if not update and state_step is None:
            self.changes.append(self.noop(spec, live))
            return
        steps: tuple[Action, ...]
        if state_step is Action.PAUSE:
            steps = (Action.PAUSE, Action.UPDATE) if update else (Action.PAUSE,)
        elif state_step is Action.RESUME:
            steps = (Action.UPDATE, Action.RESUME) if update else (Action.RESUME,)
        else:
            steps = (Action.UPDATE,)
        action = Action.UPDATE if update else steps[0]
        send_secrets = resend or (
            spec.model.secrets is not None
            and any(f.path.startswith("model.secrets.") for f in fields)
        )
        self.changes.append(
            ResourceChange(
                spec.namespace,
                spec.name,
                action,
                "; ".join(reasons),
                _seen(live),
                steps=steps,
                fields=tuple(fields),
                drift=drift,
                desired=update_config(spec, live.config, stack=self.options.stack)
                if update
                else None,
                secrets=_secret_refs(spec) if send_secrets else None,
                source=str(spec.source.mark("name")),
                protected=_protected(spec, live),
            )
        )

    def noop(self, spec: EndpointSpec, live: LiveEndpoint) -> ResourceChange:
        assert spec.namespace is not None
        reason = "matches the spec"
        if live.state is EndpointState.SCALED_TO_ZERO:
            reason = "scaled to zero while idle, as min_replicas 0 allows; matches the spec"
        return ResourceChange(
            spec.namespace,
            spec.name,
            Action.NOOP,
            reason,
            _seen(live),
            source=str(spec.source.mark("name")),
            protected=_protected(spec, live),
        )

    def orphan(self, live: LiveEndpoint) -> None:
        why = "destroy requested" if self.options.destroy else "its spec was removed"
        if _protected(None, live):
            self.changes.append(
                ResourceChange(
                    live.namespace,
                    live.name,
                    Action.NOOP,
                    f"{why}, but it is protected: kept (apply it with 'protect: false' first "
                    "to delete it)",
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
                why,
                _seen(live),
                steps=(Action.DELETE,),
            )
        )

    def run(self, desired: Sequence[EndpointSpec]) -> Plan:
        live_by_key = self.fleet.index()
        wanted: set[tuple[str, str]] = set()
        if not self.options.destroy:
            for spec in sorted(desired, key=lambda s: (s.namespace or "", s.name)):
                if spec.namespace is None:
                    raise ValueError(f"spec {spec.name} has no resolved namespace")
                key = (spec.namespace, spec.name)
                wanted.add(key)
                live = live_by_key.get(key)
                if live is None:
                    self.create(spec)
                else:
                    self.existing(spec, live)
        for key, live in sorted(live_by_key.items()):
            if key not in wanted and ownership.owner(live.config.tags) == self.options.stack:
                self.orphan(live)
        return Plan(
            stack=self.options.stack,
            changes=tuple(sorted(self.changes, key=lambda c: (c.namespace, c.name))),
            diagnostics=tuple(sorted(self.diagnostics)),
            destroy=self.options.destroy,
            namespaces=tuple(sorted(self.fleet.endpoints)),
        )


def build_plan(desired: Sequence[EndpointSpec], fleet: Fleet, options: PlanOptions) -> Plan:
    """The plan that makes `fleet` match `desired` for stack `options.stack`."""
    return _Planner(options, fleet).run(desired)
