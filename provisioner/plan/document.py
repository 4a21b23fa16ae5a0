"""The plan as a versioned JSON document (`plan --out`, `apply PLAN`), and config fingerprints.

The document holds everything `apply` needs to execute exactly what was reviewed: the steps,
the complete configuration to send (its `revision` the commit the plan resolved, and
`revision_from` the name it was resolved from), which environment variable each secret comes
from (never a value), and what the plan saw of each endpoint so that apply can refuse a stale
plan. Each change says why as a list of reasons, `{"code": "changed-outside", "paths": [...]}`:
the codes (`ReasonCode`) are stable, for pipelines to filter on; the sentences are the
renderers'.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, fields
from importlib import resources
from pathlib import Path
from typing import Any

from provisioner.hub.models import Config, Image, LiveEndpoint, PrivateLink
from provisioner.plan import ownership
from provisioner.plan.cost import HOURS_PER_MONTH, Cost, Footprint, Range
from provisioner.plan.estimate import totals
from provisioner.plan.model import (
    Action,
    FieldChange,
    Plan,
    Reason,
    ReasonCode,
    ResourceChange,
    ScheduleNote,
    Seen,
    SpecDir,
)
from provisioner.plan.review import actions, review_warnings
from provisioner.spec.diagnostics import Address, Diagnostic, Mark, Severity

# 1.1: state_serial; 1.2: targets; 1.3: spec_dir; 1.4: per change `actions`, `cost`, `warnings`,
# and the stack's `cost` totals; 1.5: `now`, per change `schedule`, per footprint `week`;
# 1.6: `provisioner_version`, `changes_digest`; 1.7: per change `ignored` (ignore_changes),
# `held` and `held_fields` (what a scheduled run leaves alone); 1.8: per change `not_kept`
# (what the last apply sent and the service did not keep). The JSON Schema of this document is
# `plan.schema.json`.
FORMAT_VERSION = "1.8"


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of the document `plan_to_json` writes (`plan.schema.json`, package data;
    `provisioner schema --kind plan`)."""
    text = resources.files("provisioner.plan").joinpath("plan.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


class PlanFormatError(ValueError):
    """A saved plan that this version cannot read."""


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PlanFormatError(f"malformed plan: {where} must be an object, not {_kind(value)}")
    return value


def _array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PlanFormatError(f"malformed plan: {where} must be a list, not {_kind(value)}")
    return value


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise PlanFormatError(f"malformed plan: {where}.{key} must be a string, not {_kind(value)}")
    return value


_CONFIG_FIELDS = tuple(f.name for f in fields(Config))


def config_to_json(config: Config) -> dict[str, Any]:
    # By hand, not `asdict`: it deep-copies every leaf, and this runs for every endpoint of
    # every plan (the fingerprint of what was seen). Every non-scalar field is rebuilt below.
    data = {name: getattr(config, name) for name in _CONFIG_FIELDS}
    link = config.private_link
    data["private_link"] = None if link is None else asdict(link)
    data["image"] = {
        "variant": config.image.variant,
        "fields": dict(config.image.fields),
        "has_credentials": config.image.has_credentials,
    }
    data["env"] = dict(sorted(config.env.items()))
    data["secret_keys"] = None if config.secret_keys is None else sorted(config.secret_keys)
    for key in ("command", "args", "tags"):
        value = getattr(config, key)
        data[key] = None if value is None else list(value)
    return data


def config_from_json(data: dict[str, Any]) -> Config:
    known = {f.name for f in fields(Config)}
    unknown = set(data) - known
    if unknown:
        raise PlanFormatError(f"unknown configuration keys {sorted(unknown)}")
    values = dict(data)
    image = values["image"]
    values["image"] = Image(image["variant"], dict(image["fields"]), image["has_credentials"])
    keys = values["secret_keys"]
    values["secret_keys"] = None if keys is None else frozenset(keys)
    link = values.get("private_link")
    values["private_link"] = None if link is None else PrivateLink(**link)
    for key in ("command", "args"):
        if values.get(key) is not None:
            values[key] = tuple(values[key])
    values["tags"] = tuple(values.get("tags") or ())
    return Config(**values)


def fingerprint(live: LiveEndpoint) -> str:
    """A digest of a live endpoint's whole configuration: any change to it changes this."""
    return ownership.digest(config_to_json(live.config))


def _reason_to_json(reason: Reason) -> dict[str, Any]:
    """`{"code": ...}` plus only the values this reason carries."""
    data: dict[str, Any] = {"code": reason.code.value}
    if reason.paths:
        data["paths"] = list(reason.paths)
    for key in ("state", "message", "min_replicas"):
        if getattr(reason, key) is not None:
            data[key] = getattr(reason, key)
    return data


def _reason_from_json(data: dict[str, Any]) -> Reason:
    unknown = set(data) - {f.name for f in fields(Reason)}
    if unknown:
        raise PlanFormatError(f"unknown reason keys {sorted(unknown)}")
    return Reason(
        code=ReasonCode(data["code"]),
        paths=tuple(data.get("paths", ())),
        state=data.get("state"),
        message=data.get("message"),
        min_replicas=data.get("min_replicas"),
    )


def _range_to_json(monthly: Range | None) -> dict[str, float] | None:
    return None if monthly is None else {"low": monthly.low, "high": monthly.high}


def _cost_to_json(cost: Cost | None) -> dict[str, Any] | None:
    """The footprints (what a saved plan is read back from) and the monthly figures derived
    from them (for pipelines: `null` is an unknown price, never 0)."""
    if cost is None:
        return None
    return {
        "before": None if cost.before is None else asdict(cost.before),
        "after": None if cost.after is None else asdict(cost.after),
        "monthly_before": _range_to_json(cost.monthly_before),
        "monthly_after": _range_to_json(cost.monthly_after),
        "monthly_delta": _range_to_json(cost.delta),
    }


def _footprint_from_json(data: Any, where: str) -> Footprint | None:
    if data is None:
        return None
    unknown = set(_object(data, where)) - {f.name for f in fields(Footprint)}
    if unknown:
        raise PlanFormatError(f"unknown cost keys {sorted(unknown)}")
    week = tuple(tuple(share) for share in _array(data.get("week", []), f"{where}.week"))
    return Footprint(**{**data, "week": week})


def _cost_from_json(data: Any, where: str) -> Cost | None:
    if data is None:
        return None
    data = _object(data, where)
    return Cost(
        before=_footprint_from_json(data.get("before"), f"{where}.before"),
        after=_footprint_from_json(data.get("after"), f"{where}.after"),
    )


def _warning_to_json(change: ResourceChange) -> list[dict[str, Any]]:
    found = []
    for warning in review_warnings(change):
        data: dict[str, Any] = {"code": warning.code.value}
        if warning.revision is not None:
            data["revision"] = warning.revision
        if warning.gpus_after is not None:
            data["gpus"] = {"before": warning.gpus_before, "after": warning.gpus_after}
        found.append(data)
    return found


def _totals_to_json(plan: Plan) -> dict[str, Any] | None:
    found = totals(plan)
    if found is None:
        return None
    return {
        "monthly_before": _range_to_json(found.before),
        "monthly_after": _range_to_json(found.after),
        "monthly_delta": _range_to_json(found.delta),
        "unknown": list(found.unknown),
        "hours_per_month": HOURS_PER_MONTH,
    }


def _change_to_json(change: ResourceChange) -> dict[str, Any]:
    return {
        "address": change.address,
        "namespace": change.namespace,
        "name": change.name,
        "action": change.action.value,
        "actions": list(actions(change)),
        "steps": [s.value for s in change.steps],
        "reasons": [_reason_to_json(r) for r in change.reasons],
        "drift": change.drift,
        "protected": change.protected,
        "refused": change.refused,
        "source": change.source,
        "fields": [asdict(f) for f in change.fields],
        "seen": asdict(change.seen),
        "desired": None if change.desired is None else config_to_json(change.desired),
        "sends": list(change.sends),
        "secrets_from_env": None
        if change.secrets is None
        else dict(sorted(change.secrets.items())),
        "revision_from": change.revision_from,
        "cost": _cost_to_json(change.cost),
        "warnings": _warning_to_json(change),
        "schedule": None if change.schedule is None else note_to_json(change.schedule),
        "ignored": [asdict(f) for f in change.ignored],
        "held": [_reason_to_json(r) for r in change.held],
        "held_fields": [asdict(f) for f in change.held_fields],
        "not_kept": [asdict(f) for f in change.not_kept],
    }


# In a markdown plan (a pull-request comment): `<!-- provisioner-changes-digest: sha256:... -->`.
DIGEST_MARKER = "provisioner-changes-digest:"
# How a changes digest is written (plan.schema.json's `changes_digest` pattern says the same).
DIGEST_FORMAT = re.compile(r"sha256:[0-9a-f]{64}")


# What else makes an update send its configuration, besides fields that differ and a rotated
# secret: a change of these is one a review sees.
_UPDATE_CAUSES = frozenset(
    {
        ReasonCode.ADOPTING,
        ReasonCode.TAGS_REWRITTEN,
        ReasonCode.UPDATE_FAILED_RETRY,
        ReasonCode.RESEND_SECRETS,
    }
)


def _as_reviewed(change: ResourceChange) -> dict[str, Any] | None:
    """What the digest covers of `change`, as a plan made without secret values (a pull
    request's) sees it: a secret whose value rotated is not part of it (the apply side alone
    can see values; it sends the new one and says so), nor is whether an update sends the
    secrets again. Where a new endpoint's secrets come from is. None: nothing is left (an
    update only because a value rotated)."""
    codes = {reason.code for reason in change.reasons}
    steps, action = list(change.steps), change.action
    desired, sends = change.desired, sorted(change.sends)
    if ReasonCode.SECRET_CHANGED in codes and not change.fields and not codes & _UPDATE_CAUSES:
        steps = [step for step in steps if step is not Action.UPDATE]
        if not steps:
            return None
        action, desired, sends = steps[0], None, []
    return {
        "address": change.address,
        "action": action.value,
        "steps": [step.value for step in steps],
        "fields": [[f.path, f.before, f.after, f.sensitive] for f in change.fields],
        "desired": None if desired is None else config_to_json(desired),
        "sends": sends,
        "secrets_from_env": None
        if change.secrets is None or Action.CREATE not in change.steps
        else dict(sorted(change.secrets.items())),
    }


def changes_digest(plan: Plan) -> str:
    """A digest of what applying `plan` would do, and of nothing else: each change's endpoint,
    action and steps, the fields that differ (before and after), the complete configuration it
    sends (every revision resolved to its commit) and where a new endpoint's secrets come
    from. Not when the plan was made, by which version, its costs, reasons or what else was
    seen, nor whether a secret's value rotated (`_as_reviewed`): a plan made again of the same
    specs and the same live endpoints has the same digest, with or without secret values, and
    any change in what would be done (a spec, a hand edit of an endpoint, a branch that moved
    upstream) gives another. `apply --reviewed-digest` compares it with the one a review saw."""
    changes = [
        entry
        for change in sorted(plan.actionable, key=lambda c: c.address)
        if (entry := _as_reviewed(change)) is not None
    ]
    body = json.dumps(
        {"stack": plan.stack, "destroy": plan.destroy, "changes": changes},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()


def note_to_json(note: ScheduleNote) -> dict[str, Any]:
    data = asdict(note)
    data["week"] = [list(share) for share in note.week]
    return data


def _note_from_json(data: Any, where: str) -> ScheduleNote | None:
    if data is None:
        return None
    data = _object(data, where)
    unknown = set(data) - {f.name for f in fields(ScheduleNote)}
    if unknown:
        raise PlanFormatError(f"unknown schedule keys {sorted(unknown)}")
    week = tuple(tuple(share) for share in _array(data.get("week", []), f"{where}.week"))
    return ScheduleNote(**{**data, "week": week})


def _change_from_json(data: dict[str, Any], where: str) -> ResourceChange:
    if "reasons" not in data and "reason" in data:
        # Saved by a provisioner from before reason codes; its sentence cannot become codes.
        raise PlanFormatError(
            "saved by an older provisioner (reasons without codes); run `provisioner plan` again"
        )
    desired = data.get("desired")
    reasons = _array(data.get("reasons"), f"{where}.reasons")
    return ResourceChange(
        namespace=_text(data, "namespace", where),
        name=_text(data, "name", where),
        action=Action(data["action"]),
        reasons=tuple(
            _reason_from_json(_object(r, f"{where}.reasons[{i}]")) for i, r in enumerate(reasons)
        ),
        seen=Seen(**_object(data.get("seen"), f"{where}.seen")),
        steps=tuple(Action(s) for s in _array(data.get("steps"), f"{where}.steps")),
        fields=_field_changes(data.get("fields"), f"{where}.fields"),
        drift=data["drift"],
        desired=None if desired is None else config_from_json(_object(desired, f"{where}.desired")),
        sends=tuple(str(attr) for attr in data["sends"]),
        secrets=None if data["secrets_from_env"] is None else dict(data["secrets_from_env"]),
        source=data.get("source"),
        protected=data["protected"],
        refused=data["refused"],
        revision_from=data.get("revision_from"),
        cost=_cost_from_json(data.get("cost"), f"{where}.cost"),
        schedule=_note_from_json(data.get("schedule"), f"{where}.schedule"),
        ignored=_field_changes(data.get("ignored", []), f"{where}.ignored"),
        held=tuple(
            _reason_from_json(_object(r, f"{where}.held[{i}]"))
            for i, r in enumerate(_array(data.get("held", []), f"{where}.held"))
        ),
        held_fields=_field_changes(data.get("held_fields", []), f"{where}.held_fields"),
        not_kept=_field_changes(data.get("not_kept", []), f"{where}.not_kept"),
    )


def _field_changes(data: Any, where: str) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(**f) for f in _array(data, where))


def _diagnostic_to_json(diagnostic: Diagnostic) -> dict[str, Any]:
    # A diagnostic points at a spec (file, line, col) or, when no spec is to blame, at an
    # endpoint (`address`, e.g. one the API listed but the planner could not read).
    subject = diagnostic.subject
    where: dict[str, Any] = (
        {"address": str(subject)}
        if isinstance(subject, Address)
        else {
            "file": str(diagnostic.mark.file),
            "line": diagnostic.mark.line,
            "col": diagnostic.mark.col,
        }
    )
    return {**where, "severity": diagnostic.severity.value, "message": diagnostic.message}


def _diagnostic_from_json(data: dict[str, Any]) -> Diagnostic:
    subject: Mark | Address
    if "address" in data:
        namespace, _, name = str(data["address"]).partition("/")
        subject = Address(namespace, name)
    else:
        subject = Mark(Path(data["file"]), data["line"], data["col"])
    return Diagnostic(subject, data["message"], Severity(data["severity"]))


def plan_to_json(plan: Plan) -> dict[str, Any]:
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "provisioner_version": plan.provisioner_version,
        "stack": plan.stack,
        "destroy": plan.destroy,
        "namespaces": list(plan.namespaces),
        "state_serial": plan.state_serial,
        "targets": list(plan.targets),
        "spec_dir": None if plan.spec_dir is None else asdict(plan.spec_dir),
        "now": plan.now,
        "changes_digest": changes_digest(plan),
        "summary": {action.value: counts[action] for action in Action},
        "cost": _totals_to_json(plan),
        "changes": [_change_to_json(c) for c in plan.changes],
        "diagnostics": [_diagnostic_to_json(d) for d in plan.diagnostics],
    }


def _check_version(data: Any) -> None:
    if not isinstance(data, dict) or "format_version" not in data:
        raise PlanFormatError("not a provisioner plan (no format_version)")
    version = str(data["format_version"])
    if version.split(".", maxsplit=1)[0] != FORMAT_VERSION.split(".", maxsplit=1)[0]:
        raise PlanFormatError(
            f"plan format {version} cannot be read by this provisioner (reads {FORMAT_VERSION})"
        )


def _serial(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise PlanFormatError(f"malformed plan: state_serial must be a count, not {_kind(value)}")


def _spec_dir(value: Any) -> SpecDir | None:
    """Absent (a 1.1 plan) or null: the plan does not say where its specs were."""
    if value is None:
        return None
    data = _object(value, "spec_dir")
    return SpecDir(_text(data, "given", "spec_dir"), _text(data, "absolute", "spec_dir"))


def plan_from_json(data: Any) -> Plan:
    """The plan a document holds; any shape this version did not write is a `PlanFormatError`
    (a hand-made plan with a valid checksum must not crash apply)."""
    _check_version(data)
    try:
        changes = _array(data.get("changes"), "changes")
        diagnostics = _array(data.get("diagnostics"), "diagnostics")
        return Plan(
            stack=_text(data, "stack", "plan"),
            destroy=data["destroy"],
            namespaces=tuple(_array(data.get("namespaces"), "namespaces")),
            state_serial=_serial(data.get("state_serial")),
            targets=tuple(str(t) for t in _array(data.get("targets", []), "targets")),
            spec_dir=_spec_dir(data.get("spec_dir")),
            now=None if data.get("now") is None else str(data["now"]),
            provisioner_version=(
                None
                if data.get("provisioner_version") is None
                else str(data["provisioner_version"])
            ),
            changes=tuple(
                _change_from_json(_object(c, f"changes[{i}]"), f"changes[{i}]")
                for i, c in enumerate(changes)
            ),
            diagnostics=tuple(
                _diagnostic_from_json(_object(d, f"diagnostics[{i}]"))
                for i, d in enumerate(diagnostics)
            ),
        )
    except PlanFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanFormatError(f"malformed plan: {exc}") from exc


def _checksum(data: dict[str, Any]) -> str:
    body = {key: value for key, value in data.items() if key != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def dumps(plan: Plan) -> str:
    """The plan as JSON, with a checksum of its content: a hand-edited plan is refused."""
    data = plan_to_json(plan)
    data["checksum"] = _checksum(data)
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(f"not JSON: {exc.msg} at line {exc.lineno}") from exc
    except RecursionError as exc:
        # A plan is a few levels deep; thousands of nested brackets are not a plan.
        raise PlanFormatError("not a provisioner plan: nested too deeply") from exc


def loads(text: str) -> Plan:
    data = _parse(text)
    _check_version(data)
    if "checksum" not in data:
        raise PlanFormatError(
            "the plan has no checksum: it was saved by an older provisioner (or edited); run "
            "`provisioner plan` again"
        )
    try:
        checksum = _checksum(data)
    except RecursionError as exc:  # pragma: no cover - json.loads stops nesting this deep first
        raise PlanFormatError("not a provisioner plan: nested too deeply") from exc
    if data["checksum"] != checksum:
        raise PlanFormatError(
            "the plan was changed after it was made (its checksum does not match): apply only "
            "a plan as `provisioner plan --out` wrote it; make a new one"
        )
    return plan_from_json(data)
