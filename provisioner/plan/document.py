"""The plan as a versioned JSON document (`plan --out`, `apply PLAN`), and config fingerprints.

The document holds everything `apply` needs to execute exactly what was reviewed: the steps,
the complete configuration to send, which environment variable each secret comes from (never a
value), and what the plan saw of each endpoint so that apply can refuse a stale plan.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from provisioner.hub.models import Config, Image, LiveEndpoint, PrivateLink
from provisioner.plan import ownership
from provisioner.plan.model import Action, FieldChange, Plan, ResourceChange, Seen
from provisioner.spec.diagnostics import Diagnostic, Mark, Severity

FORMAT_VERSION = "1.0"


class PlanFormatError(ValueError):
    """A saved plan that this version cannot read."""


def config_to_json(config: Config) -> dict[str, Any]:
    data = asdict(config)
    data["image"] = {
        "variant": config.image.variant,
        "fields": dict(config.image.fields),
        "has_credentials": config.image.has_credentials,
    }
    data["env"] = dict(sorted(config.env.items()))
    data["secret_keys"] = sorted(config.secret_keys)
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
    values["secret_keys"] = frozenset(values["secret_keys"])
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


def _change_to_json(change: ResourceChange) -> dict[str, Any]:
    return {
        "address": change.address,
        "namespace": change.namespace,
        "name": change.name,
        "action": change.action.value,
        "steps": [s.value for s in change.steps],
        "reason": change.reason,
        "drift": change.drift,
        "protected": change.protected,
        "refused": change.refused,
        "source": change.source,
        "fields": [asdict(f) for f in change.fields],
        "seen": asdict(change.seen),
        "desired": None if change.desired is None else config_to_json(change.desired),
        "secrets_from_env": None
        if change.secrets is None
        else dict(sorted(change.secrets.items())),
    }


def _change_from_json(data: dict[str, Any]) -> ResourceChange:
    desired = data.get("desired")
    return ResourceChange(
        namespace=data["namespace"],
        name=data["name"],
        action=Action(data["action"]),
        reason=data["reason"],
        seen=Seen(**data["seen"]),
        steps=tuple(Action(s) for s in data["steps"]),
        fields=tuple(FieldChange(**f) for f in data["fields"]),
        drift=data["drift"],
        desired=None if desired is None else config_from_json(desired),
        secrets=None if data["secrets_from_env"] is None else dict(data["secrets_from_env"]),
        source=data.get("source"),
        protected=data["protected"],
        refused=data["refused"],
    )


def _diagnostic_to_json(diagnostic: Diagnostic) -> dict[str, Any]:
    return {
        "file": str(diagnostic.mark.file),
        "line": diagnostic.mark.line,
        "col": diagnostic.mark.col,
        "severity": diagnostic.severity.value,
        "message": diagnostic.message,
    }


def _diagnostic_from_json(data: dict[str, Any]) -> Diagnostic:
    mark = Mark(Path(data["file"]), data["line"], data["col"])
    return Diagnostic(mark, data["message"], Severity(data["severity"]))


def plan_to_json(plan: Plan) -> dict[str, Any]:
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "stack": plan.stack,
        "destroy": plan.destroy,
        "namespaces": list(plan.namespaces),
        "summary": {action.value: counts[action] for action in Action},
        "changes": [_change_to_json(c) for c in plan.changes],
        "diagnostics": [_diagnostic_to_json(d) for d in plan.diagnostics],
    }


def plan_from_json(data: Any) -> Plan:
    if not isinstance(data, dict) or "format_version" not in data:
        raise PlanFormatError("not a provisioner plan (no format_version)")
    version = str(data["format_version"])
    if version.split(".", maxsplit=1)[0] != FORMAT_VERSION.split(".", maxsplit=1)[0]:
        raise PlanFormatError(
            f"plan format {version} cannot be read by this provisioner (reads {FORMAT_VERSION})"
        )
    try:
        return Plan(
            stack=data["stack"],
            destroy=data["destroy"],
            namespaces=tuple(data["namespaces"]),
            changes=tuple(_change_from_json(c) for c in data["changes"]),
            diagnostics=tuple(_diagnostic_from_json(d) for d in data["diagnostics"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFormatError(f"malformed plan: {exc}") from exc


def dumps(plan: Plan) -> str:
    return json.dumps(plan_to_json(plan), indent=2, sort_keys=False) + "\n"


def loads(text: str) -> Plan:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(f"not JSON: {exc.msg} at line {exc.lineno}") from exc
    return plan_from_json(data)
