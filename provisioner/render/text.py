"""The plan as text for a terminal or a CI log. Pure: Plan in, str out.

Small by design: unchanged endpoints are counted, not listed; an update shows only the fields
that differ. A create shows one summary line a reviewer checks first (model, hardware, replicas,
image), then every other setting it will be created with, by spec path (env values that look
secret masked). Secret values never exist in a plan, and a sensitive field renders as
"(sensitive)".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from provisioner.hub.models import Config
from provisioner.plan import ownership
from provisioner.plan.document import changes_digest
from provisioner.plan.estimate import totals
from provisioner.plan.model import (
    DEFAULT_BRANCH,
    Action,
    FieldChange,
    Plan,
    ReasonCode,
    ResourceChange,
)
from provisioner.render.money import before_after, cost_changes
from provisioner.render.reasons import describe, schedule_line, short
from provisioner.spec.secrets import looks_secret

SYMBOLS = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.PAUSE: "||",
    Action.RESUME: ">",
    Action.NOOP: "=",
}


def value(data: Any) -> str:
    if data is None:
        return "null"
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _revision(change: FieldChange, resolved_from: str | None) -> str:
    """`~ model.revision: 1a2b3c4 -> 7bcac57 (main)`: commits short, with the name the new
    commit was resolved from."""
    before = "null" if change.before is None else short(str(change.before))
    after = "null" if change.after is None else short(str(change.after))
    named = f" ({resolved_from})" if resolved_from and resolved_from != change.after else ""
    suffix = "   # forces replacement" if change.forces_replacement else ""
    return f"~ {change.path}: {before} -> {after}{named}{suffix}"


def _field(change: FieldChange, resolved_from: str | None = None) -> str:
    if change.path == "model.revision" and not change.sensitive:
        return _revision(change, resolved_from)
    suffix = "   # forces replacement" if change.forces_replacement else ""
    if change.sensitive:
        if change.before is None:
            return f"+ {change.path}: (sensitive){suffix}"
        if change.after is None:
            return f"- {change.path}: (sensitive){suffix}"
        return f"~ {change.path}: (sensitive){suffix}"
    if change.before is None and change.after is not None:
        return f"+ {change.path}: {value(change.after)}{suffix}"
    if change.after is None and change.before is not None:
        return f"- {change.path}: {value(change.before)}{suffix}"
    return f"~ {change.path}: {value(change.before)} -> {value(change.after)}{suffix}"


def summary(config: Config, revision_from: str | None = None) -> str:
    """One line a reviewer can check a new endpoint by: the repository at the commit it will
    run (`gpt2@main -> 7bcac57`), where, how many, which image."""
    replicas = (
        f"{config.min_replica} replica" + ("s" if config.min_replica != 1 else "")
        if config.min_replica == config.max_replica
        else f"replicas {config.min_replica}-{config.max_replica}"
    )
    if config.min_replica == 0 and config.scale_to_zero_timeout:
        replicas += f", scale to zero after {config.scale_to_zero_timeout} min"
    image = config.image.fields.get("url") or config.image.variant
    model = config.repository
    if config.revision and revision_from == DEFAULT_BRANCH:
        model += f" ({revision_from} -> {short(config.revision)})"
    elif config.revision and revision_from and revision_from != config.revision:
        model += f"@{revision_from} -> {short(config.revision)}"
    elif config.revision:
        model += f"@{short(config.revision)}"
    return (
        f"{model} on {config.vendor}/{config.region} {config.accelerator} "
        f"{config.instance_type} {config.instance_size}, {replicas}, {config.type}, "
        f"image {image}"
    )


# The image's own settings, by the API's key; every other key of an image is an engine option.
_IMAGE_SETTINGS = {"url": "url", "port": "port", "healthRoute": "health_route"}
_METRICS = {"pendingRequests": "pending_requests", "hardwareUsage": "hardware_usage"}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def created_with(config: Config) -> list[tuple[str, Any]]:
    """Every setting of a create not in its summary line, as (spec path, value), in spec
    order; a value of None is sensitive."""
    rows: list[tuple[str, Any]] = []
    if config.task:
        rows.append(("model.task", config.task))
    rows.append(("model.framework", config.framework))
    image = config.image.fields
    rows.extend(
        (f"model.image.{name}", image[key]) for key, name in _IMAGE_SETTINGS.items() if key in image
    )
    rows.extend(
        (f"model.engine_options.{_snake(key)}", setting)
        for key, setting in sorted(image.items())
        if key not in _IMAGE_SETTINGS
    )
    for key, env_value in sorted(config.env.items()):
        rows.append((f"model.env.{key}", None if looks_secret(key, env_value) else env_value))
    optional: tuple[tuple[str, Any], ...] = (
        ("model.command", list(config.command) if config.command is not None else None),
        ("model.args", list(config.args) if config.args is not None else None),
        ("scaling.metric", _METRICS.get(config.metric or "", config.metric)),
        ("scaling.threshold", config.threshold),
        (
            "private_link",
            None
            if config.private_link is None
            else {
                "account_id": config.private_link.account_id,
                "region": config.private_link.region,
            },
        ),
        ("route.domain", config.route_domain),
        ("route.path", config.route_path),
        ("cache_http_responses", config.cache_http_responses),
    )
    rows.extend((path, found) for path, found in optional if found is not None)
    tags = ownership.user_tags(config.tags)
    if tags:
        rows.append(("tags", list(tags)))
    return rows


def _created_with(config: Config) -> list[str]:
    return [
        f"+ {path}: (sensitive)" if setting is None else f"+ {path}: {value(setting)}"
        for path, setting in created_with(config)
    ]


def _steps(change: ResourceChange) -> str:
    if len(change.steps) <= 1 or change.action is Action.REPLACE:
        return change.action.value
    return ", then ".join(step.value for step in change.steps)


def render_change(change: ResourceChange, *, indent: str = "  ") -> list[str]:
    label = "kept" if change.action is Action.NOOP else _steps(change)
    flags = []
    if change.drift:
        flags.append("changed outside provisioner")
    if change.protected:
        flags.append("protected")
    head = f"{indent}{SYMBOLS[change.action]} {change.address}: {label}"
    if flags:
        head += f" ({', '.join(flags)})"
    lines = [head, f"{indent}    {describe(change)}"]
    if change.schedule is not None:
        lines.append(f"{indent}    schedule: {schedule_line(change.schedule)}")
    if change.source:
        lines.append(f"{indent}    spec: {change.source}")
    cost = change.cost
    if change.is_change and cost is not None and cost_changes(cost):
        found = before_after(cost.monthly_before, cost.monthly_after, cost.delta, arrow="->")
        lines.append(f"{indent}    monthly cost: {found}")
    if change.action is Action.CREATE and change.desired is not None:
        lines.append(f"{indent}    {summary(change.desired, change.revision_from)}")
        lines.extend(f"{indent}    {line}" for line in _created_with(change.desired))
        for key, env in sorted((change.secrets or {}).items()):
            lines.append(f"{indent}    secret {key}: (sensitive, from ${env})")
    else:
        lines.extend(f"{indent}    {_field(f, change.revision_from)}" for f in change.fields)
    if change.ignored:
        lines.append(f"{indent}    ignored (ignore_changes: left as it is live):")
        lines.extend(f"{indent}      {_field(f)}" for f in change.ignored)
    if change.not_kept:
        lines.append(
            f"{indent}    not kept by the service (sent last time, not again until the spec or "
            "the service changes; --resend-not-kept sends it):"
        )
        lines.extend(f"{indent}      {_field(f)}" for f in change.not_kept)
    if change.held:
        lines.append(f"{indent}    left alone by this unattended run: {held_sentence(change)}")
        lines.extend(f"{indent}      {_field(f, change.revision_from)}" for f in change.held_fields)
    return lines


def held_sentence(change: ResourceChange) -> str:
    """What a full apply would do to `change`'s endpoint that an unattended run does not."""
    return describe(replace(change, reasons=change.held, fields=change.held_fields))


def held_note(plan: Plan) -> str:
    """The closing line of a scheduled run's plan that leaves differences alone."""
    held = plan.held
    return (
        f"Left alone: {len(held)} endpoint(s) differ from their specs, and this unattended run "
        "does not change them (each says why above): the drift check reports them, and an "
        "apply a person reviewed (a merge, `provisioner apply`) makes them."
    )


def counts_line(plan: Plan) -> str:
    counts = plan.counts()
    parts = [
        f"{counts[a]} to {a.value}"
        for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)
    ]
    parts += [f"{counts[Action.PAUSE]} to pause", f"{counts[Action.RESUME]} to resume"]
    kept = sum(1 for c in plan.changes if c.action is Action.NOOP)
    return f"Plan: {', '.join(parts)}; {kept} unchanged."


def _monthly_cost(plan: Plan) -> str:
    """` Monthly cost: $817.60 -> $905.20 (+$87.60).`: the stack's, as the Markdown comment
    says it; nothing when a price is unknown (the comment names those endpoints)."""
    found = totals(plan)
    if found is None or found.delta is None:
        return ""
    return f" Monthly cost: {before_after(found.before, found.after, found.delta, arrow='->')}."


def _settling(plan: Plan) -> str:
    """` Not running yet: a (initializing), b (pending).`: endpoints that match their specs but
    have not settled (an apply that stopped waiting for them), so "No changes" hides nothing."""
    settling = [
        f"{c.address} ({r.state})"
        for c in plan.changes
        for r in c.reasons
        if r.code is ReasonCode.NOT_SETTLED
    ]
    if not settling:
        return ""
    return f" Not running yet: {', '.join(settling)}; `provisioner status` follows them."


def render_plan(plan: Plan) -> str:
    title = "Destroy plan" if plan.destroy else "Plan"
    namespaces = ", ".join(plan.namespaces) or "none"
    lines = [f"{title} for stack {plan.stack!r} (namespaces: {namespaces})"]
    if plan.targets:
        lines.append(f"Only --target {', '.join(plan.targets)}: the other endpoints are not shown.")
    lines.append("")
    listed = [c for c in plan.changes if c.shown]
    for change in listed:
        lines.extend(render_change(change))
        lines.append("")
    if plan.destroy and not plan.has_changes and not plan.refused:
        lines.append(f"Nothing to destroy: stack {plan.stack!r} manages no endpoints.")
    elif not plan.has_changes and plan.held:
        lines.append(f"No changes this run.{_settling(plan)}")
    elif not plan.has_changes:
        unchanged = len(plan.changes)
        noun = "endpoint matches its spec" if unchanged == 1 else "endpoints match their specs"
        lines.append(f"No changes: {unchanged} {noun}.{_settling(plan)}")
    else:
        lines.append(counts_line(plan) + _monthly_cost(plan))
        lines.append(f"Changes digest: {changes_digest(plan)}")
    if plan.held:
        lines.append(held_note(plan))
    lines.extend(_unchanged_schedules(plan))
    return "\n".join(lines) + "\n"


def _unchanged_schedules(plan: Plan) -> list[str]:
    """One line per unchanged endpoint with a schedule: a plan with nothing to do still says
    which are paused (or running) because of it, and until when."""
    return schedules_block(plan, [c for c in plan.changes if not c.shown])


def schedules_block(plan: Plan, changes: Sequence[ResourceChange]) -> list[str]:
    """`Schedules (at NOW):`, then what each scheduled one of `changes` decides (plan, status)."""
    found = [(c.address, c.schedule) for c in changes if c.schedule is not None]
    if not found:
        return []
    return [f"Schedules (at {plan.now}):", *(f"  {a}: {schedule_line(n)}" for a, n in found)]


def render_release(plan: Plan) -> str:
    """What `release` will do: each endpoint's tags before and after; nothing else changes."""
    lines = [f"Release from stack {plan.stack!r}", ""]
    for change in plan.changes:
        lines.extend(render_change(change))
        lines.append("")
    count = len(plan.changes)
    lines.append(
        f"Release: {count} endpoint(s) stop being managed by stack {plan.stack!r}; none is "
        "deleted or redeployed. `provisioner import NAME` in another stack adopts one."
    )
    return "\n".join(lines) + "\n"
