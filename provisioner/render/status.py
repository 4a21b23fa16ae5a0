"""`status`: the stack's endpoints as they are, next to what the plan says, as a table or as
one JSON document (`--format json`, keys stable, `format_version` bumped on any change of
meaning). Pure."""

from __future__ import annotations

import json
from typing import Any

from provisioner.hub.models import Fleet, LiveEndpoint
from provisioner.plan.document import note_to_json
from provisioner.plan.model import Action, Plan, ReasonCode, ResourceChange
from provisioner.render.reasons import names
from provisioner.render.text import schedules_block


def _unreadable(change: ResourceChange) -> bool:
    return any(r.code is ReasonCode.SPEC_UNREADABLE_KEPT for r in change.reasons)


# The table's SPEC column for each `_sync` word; `differs` and `drift` also name the fields.
_SPEC_COLUMN = {
    "unknown": "unknown: a spec file cannot be read",
    "kept-protected": "no spec (protected, kept)",
    "in-sync": "in sync",
    "no-spec": "no spec (apply deletes it)",
    "not-created": "not created yet",
}


def _spec_column(change: ResourceChange) -> str:
    sync = _sync(change)
    if sync in _SPEC_COLUMN:
        return _SPEC_COLUMN[sync]
    what = "changed outside provisioner" if sync == "drift" else f"apply will {change.action.value}"
    fields = names([f.path for f in change.fields])
    return f"{what}: {fields}" if fields else what


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _row(change: ResourceChange, endpoint: LiveEndpoint | None) -> list[str]:
    if endpoint is None:
        return [change.address, "-", "-", "-", _spec_column(change)]
    config = endpoint.config
    replicas = (
        f"{endpoint.ready_replicas}/{endpoint.target_replicas}"
        f" (min {config.min_replica}, max {config.max_replica})"
    )
    url = endpoint.url or "-"
    return [change.address, endpoint.state.value, replicas, url, _spec_column(change)]


def render_status(plan: Plan, fleet: Fleet, *, plan_command: str = "provisioner plan") -> str:
    if not plan.changes:
        return f"Stack {plan.stack!r} has no endpoints and no specs.\n"
    live = fleet.index()
    rows = [["ENDPOINT", "STATE", "REPLICAS", "URL", "SPEC"]]
    rows += [_row(change, live.get((change.namespace, change.name))) for change in plan.changes]
    pending = sum(1 for c in plan.changes if c.is_change)
    differ = "differs from its spec" if pending == 1 else "differ from their specs"
    verdict = f"{pending} {differ}: run `{plan_command}`." if pending else "all in sync."
    count = len(plan.changes)
    text = f"{_table(rows)}\n\n{count} endpoint{'' if count == 1 else 's'}; {verdict}\n"
    block = schedules_block(plan, plan.changes)
    if block:
        text += "\n" + "\n".join(block) + "\n"
    return text


# 1.1: per endpoint `schedule` (what its schedule decides now, as in the JSON plan), and `now`.
STATUS_FORMAT_VERSION = "1.1"


def _sync(change: ResourceChange) -> str:
    """The table's SPEC column as a stable word for pipelines."""
    if _unreadable(change):
        return "unknown"
    if change.refused:
        return "kept-protected"
    if change.action is Action.NOOP:
        return "in-sync"
    if change.action is Action.DELETE:
        return "no-spec"
    if change.action is Action.CREATE:
        return "not-created"
    return "drift" if change.drift else "differs"


def _endpoint_json(change: ResourceChange, endpoint: LiveEndpoint | None) -> dict[str, Any]:
    replicas = None
    if endpoint is not None:
        replicas = {
            "ready": endpoint.ready_replicas,
            "target": endpoint.target_replicas,
            "min": endpoint.config.min_replica,
            "max": endpoint.config.max_replica,
        }
    return {
        "address": change.address,
        "namespace": change.namespace,
        "name": change.name,
        "state": None if endpoint is None else endpoint.state.value,
        "replicas": replicas,
        "url": None if endpoint is None else endpoint.url,
        "in_sync": not change.is_change,
        "sync": _sync(change),
        "drift": change.drift,
        "action": change.action.value,
        "reasons": [reason.code.value for reason in change.reasons],
        "fields": [f.path for f in change.fields],
        "protected": change.protected,
        "spec": change.source,
        "schedule": None if change.schedule is None else note_to_json(change.schedule),
    }


def render_status_json(plan: Plan, fleet: Fleet) -> str:
    """`status --format json`: one document, an entry per endpoint in address order."""
    live = fleet.index()
    document = {
        "format_version": STATUS_FORMAT_VERSION,
        "stack": plan.stack,
        "now": plan.now,
        "namespaces": list(plan.namespaces),
        "in_sync": not plan.has_changes,
        "endpoints": [
            _endpoint_json(change, live.get((change.namespace, change.name)))
            for change in plan.changes
        ],
    }
    return json.dumps(document, indent=2) + "\n"
