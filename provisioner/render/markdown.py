"""The plan as GitHub-flavoured Markdown, for a pull-request comment. Pure: Plan in, str out.

Layout: a one-line summary (counts and the stack's monthly cost before -> after); a table of
the changed endpoints (action, where they run, replicas, monthly cost before -> after); then one
`<details>` block per changed endpoint: the reasons, the review warnings, and a field-level
before -> after table. Secret values never exist in a plan: secrets read "changed"/"unchanged",
env values that look secret "(sensitive)" (as in the text plan).

Order is deterministic: most consequential action first (replace, delete, create, update,
resume, pause, kept), then by address. A comment must stay under GitHub's 65,536 characters, so
the output is built whole rows and whole blocks at a time within `BUDGET`: beyond it, the
remaining endpoints are one table row of counts per action, and the remaining details are
named, never a table cut in half. Cells escape Markdown and HTML, and newlines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from provisioner.plan.cost import Footprint
from provisioner.plan.document import DIGEST_MARKER, changes_digest
from provisioner.plan.estimate import totals
from provisioner.plan.model import (
    DEFAULT_BRANCH,
    Action,
    FieldChange,
    Plan,
    ReasonCode,
    ResourceChange,
)
from provisioner.plan.review import ReviewWarning, WarningCode, review_warnings
from provisioner.render.money import EN, before_after, monthly
from provisioner.render.reasons import describe, schedule_line, short
from provisioner.render.text import created_with, held_sentence, summary, value

# GitHub refuses a comment over 65,536 characters; keep room for what a pipeline adds around it.
GITHUB_LIMIT = 65_536
BUDGET = 60_000
MAX_TABLE_ROWS = 100  # beyond these, the rest of the table is counts per action
MAX_FIELD_ROWS = 40  # per endpoint; beyond these, a row says how many more
MAX_CELL = 200  # characters of one value in a cell
MAX_DIAGNOSTICS = 20  # the plan's warnings listed under the summary

_RANK = {
    Action.REPLACE: 0,
    Action.DELETE: 1,
    Action.CREATE: 2,
    Action.UPDATE: 3,
    Action.RESUME: 4,
    Action.PAUSE: 5,
    Action.NOOP: 6,
}
_ESCAPED = set("\\`*_[]<>|#~!&")
ARROW = "→"
NONE = "\N{EM DASH}"  # no value: the endpoint does not exist then, or the field is unset


def cell(text: str, *, limit: int = MAX_CELL) -> str:
    """Text safe inside a table cell (or a paragraph): Markdown and HTML characters escaped,
    newlines as `<br>`, at most `limit` characters of the original."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    escaped = "".join(f"\\{c}" if c in _ESCAPED else c for c in text)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def code(text: str) -> str:
    """A code span safe in a table cell: backticks cannot close it early, a pipe cannot split
    the cell (GFM reads `\\|` as a pipe inside code in a table), no newline ends the row."""
    text = text.replace("`", "'").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return f"`{text[:MAX_CELL]}`"


def _label(change: ResourceChange) -> str:
    if change.refused:
        label = "kept"
    elif change.action is Action.NOOP:
        label = "no change"
    elif len(change.steps) > 1 and change.action is not Action.REPLACE:
        label = ", then ".join(step.value for step in change.steps)
    else:
        label = change.action.value
    flags = [
        flag
        for flag, on in (("changed outside", change.drift), ("protected", change.protected))
        if on
    ]
    return f"{label} ({', '.join(flags)})" if flags else label


def _where(found: Footprint) -> str:
    return (
        f"{found.vendor}/{found.region} {found.accelerator} {found.instance_type} "
        f"{found.instance_size}"
    )


def _replicas(found: Footprint) -> str:
    if found.stopped:
        return "stopped"  # paused (or failed): no replica runs
    if found.min_replicas == found.max_replicas:
        return str(found.min_replicas)
    return f"{found.min_replicas}{EN}{found.max_replicas}"


def _before_after(before: str | None, after: str | None) -> str:
    if before == after:
        return before or NONE
    return f"{before or NONE} {ARROW} {after or NONE}"


def _either(before: str | None, after: str | None) -> str:
    if before is None or after is None:
        return before or after or NONE
    return _before_after(before, after)


def _row(change: ResourceChange) -> str:
    cost = change.cost
    if cost is None:  # a plan saved before costs: where it goes, from what it sends
        where = replicas = None
        desired = change.desired
        if desired is not None:
            where = (
                f"{desired.vendor}/{desired.region} {desired.accelerator} "
                f"{desired.instance_type} {desired.instance_size}"
            )
            replicas = f"{desired.min_replica}{EN}{desired.max_replica}"
        cells = [where or NONE, replicas or NONE, "not estimated"]
    else:
        b, a = cost.before, cost.after
        # Where and how many: what exists (a create's new, a delete's old), or before -> after.
        cells = [
            _either(None if b is None else _where(b), None if a is None else _where(a)),
            _either(None if b is None else _replicas(b), None if a is None else _replicas(a)),
            _before_after(
                None if b is None else monthly(cost.monthly_before),
                None if a is None else monthly(cost.monthly_after),
            ),
        ]
    return (
        "| " + " | ".join([f"`{change.address}`", cell(_label(change)), *map(cell, cells)]) + " |"
    )


TABLE_HEAD = (
    "| Endpoint | Action | Vendor/region/instance | Replicas | Monthly cost (before → after) |\n"
    "|---|---|---|---|---|"
)


def _counts(changes: Sequence[ResourceChange]) -> str:
    counted = Counter(_label(c).split(" (")[0] for c in changes)
    return ", ".join(f"{n} {label}" for label, n in counted.items())


def _rest_row(rest: Sequence[ResourceChange]) -> str:
    return f"| …and {len(rest)} more | {cell(_counts(rest))} | | | |"


def warning_text(warning: ReviewWarning) -> str:
    code = warning.code
    if code is WarningCode.URL_CHANGES:
        return "**Replaced**: deleted, then created again; its URL changes."
    if code is WarningCode.DELETION:
        return "**Deleted**: the endpoint, its URL and its configuration go away."
    if code is WarningCode.PUBLIC_ACCESS:
        return "**Public**: anyone can call it, without a token."
    if code is WarningCode.UNPINNED_REVISION:
        name = f"the {DEFAULT_BRANCH}" if warning.revision == DEFAULT_BRANCH else warning.revision
        return (
            f"**Unpinned revision**: deploys {cell(str(name))} (not a 40-hex commit); a later "
            "apply deploys whatever it then points at."
        )
    return f"**GPU added**: up to {warning.gpus_after} GPU(s) at once (was {warning.gpus_before})."


def _json(data: object) -> str:
    return NONE if data is None else cell(value(data))


def _field_row(change: FieldChange, revision_from: str | None) -> str:
    path = code(change.path)
    if change.sensitive:
        before = NONE if change.before is None else "(sensitive)"
        if change.after is None:
            after = f"{NONE} (removed)"
        else:
            after = "(sensitive, added)" if change.before is None else "(sensitive, changed)"
        return f"| {path} | {before} | {after} |"
    before, after = _json(change.before), _json(change.after)
    if change.path == "model.revision":
        before = NONE if change.before is None else cell(short(str(change.before)))
        after = NONE if change.after is None else cell(short(str(change.after)))
        if revision_from and revision_from != change.after:
            after += f" ({cell(revision_from)})"
    if change.forces_replacement:
        after += " **(forces replacement)**"
    return f"| {path} | {before} | {after} |"


def _field_rows(change: ResourceChange) -> list[str]:
    if change.action is Action.CREATE and change.desired is not None:
        return [
            f"| {code(path)} | {NONE} | {'(sensitive)' if setting is None else _json(setting)} |"
            for path, setting in created_with(change.desired)
        ]
    return [_field_row(f, change.revision_from) for f in change.fields]


def _secrets(change: ResourceChange) -> str | None:
    """`Secrets: API_KEY changed, OTHER unchanged.`: names only, never values."""
    changed = {
        f.path.removeprefix("model.secrets.")
        for f in change.fields
        if f.path.startswith("model.secrets.")
    }
    for reason in change.reasons:
        if reason.code is ReasonCode.SECRET_CHANGED:
            changed.update(p.removeprefix("model.secrets.") for p in reason.paths)
    declared = set(change.secrets or ())
    if change.action is Action.CREATE:
        changed |= declared
    names = sorted(declared | changed)
    if not names:
        return None
    words = [f"{code(n)} {'changed' if n in changed else 'unchanged'}" for n in names]
    return "Secrets: " + ", ".join(words) + "."


def details(change: ResourceChange) -> str:
    """One endpoint's `<details>` block."""
    warnings = review_warnings(change)
    mark = " ⚠️" if warnings else ""
    lines = [
        "<details>",
        f"<summary><code>{change.address}</code>: {cell(_label(change))}{mark}</summary>",
        "",
        cell(describe(change), limit=1000) + ".",
    ]
    if change.source:
        lines[-1] += f" Spec: {code(change.source)}."
    if change.schedule is not None:
        lines += ["", f"Schedule: {cell(schedule_line(change.schedule), limit=1000)}."]
    if change.action is Action.CREATE and change.desired is not None:
        lines += ["", cell(summary(change.desired, change.revision_from), limit=1000)]
    if warnings:
        lines += ["", *(f"- ⚠️ {warning_text(w)}" for w in warnings)]
    cost = change.cost
    if cost is not None and change.is_change:
        found = before_after(cost.monthly_before, cost.monthly_after, cost.delta, arrow=ARROW)
        lines += ["", f"Monthly cost: {found}."]
    rows = _field_rows(change)
    if rows:
        shown = rows[:MAX_FIELD_ROWS]
        if len(rows) > len(shown):
            shown.append(f"| …and {len(rows) - len(shown)} more fields | | |")
        lines += ["", "| Field | Before | After |", "|---|---|---|", *shown]
    secrets = _secrets(change)
    if secrets:
        lines += ["", secrets]
    if change.ignored:
        lines += ["", f"Ignored (`ignore_changes`, left as it is live): {_listed(change.ignored)}."]
    if change.not_kept:
        lines += [
            "",
            f"Not kept by the service (sent last time; not again until the spec or the service "
            f"changes, or `--resend-not-kept`): {_listed(change.not_kept)}.",
        ]
    if change.held:
        lines += ["", f"Left alone by this unattended run: {cell(held_sentence(change))}."]
    lines += ["", "</details>"]
    return "\n".join(lines)


def _listed(fields: Sequence[FieldChange]) -> str:
    return ", ".join(
        f"{code(f.path)} {_json(f.before)} {ARROW} {_json(f.after)}"
        if not f.sensitive
        else code(f.path)
        for f in fields
    )


def _order(changes: Sequence[ResourceChange]) -> list[ResourceChange]:
    return sorted(changes, key=lambda c: (_RANK[c.action], c.address))


def _summary(plan: Plan) -> str:
    counts = plan.counts()
    title = "Destroy plan" if plan.destroy else "Plan"
    parts = [
        f"{counts[a]} to {a.value}"
        for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.PAUSE)
        if counts[a]
    ]
    if counts[Action.RESUME]:
        parts.append(f"{counts[Action.RESUME]} to resume")
    changed = ", ".join(parts) if parts else "no changes"
    line = (
        f"**{title} for stack `{cell(plan.stack)}`**: {changed}; {counts[Action.NOOP]} unchanged."
    )
    found = totals(plan)
    if found is not None:
        line += (
            f" Monthly cost: {before_after(found.before, found.after, found.delta, arrow=ARROW)}."
        )
        if found.unknown:
            some = ", ".join(f"`{a}`" for a in found.unknown[:5])
            more = f" and {len(found.unknown) - 5} more" if len(found.unknown) > 5 else ""
            line += f" No price for {some}{more}."
    return line


def _diagnostics(plan: Plan) -> list[str]:
    """The plan's diagnostics as the terminal shows them (`plan` prints no plan with errors, so
    in a comment these are warnings: secrets not comparable, namespaces not listed...)."""
    found = sorted(plan.diagnostics)
    if not found:
        return []
    lines = ["", *(f"- {cell(str(d), limit=600)}" for d in found[:MAX_DIAGNOSTICS])]
    if len(found) > MAX_DIAGNOSTICS:
        lines.append(f"- …and {len(found) - MAX_DIAGNOSTICS} more")
    return lines


def _schedules(plan: Plan) -> list[str]:
    """Unchanged endpoints with a schedule, one line each: a plan with nothing to do still says
    which are paused (or running) because of it."""
    found = [c for c in plan.changes if c.schedule is not None and not c.shown]
    if not found:
        return []
    lines = ["", f"Schedules at `{plan.now}`, unchanged:"]
    lines += [f"- `{c.address}`: {cell(schedule_line(c.schedule))}" for c in found if c.schedule]
    return lines


def render_markdown(plan: Plan, *, budget: int = BUDGET) -> str:
    lines = [_summary(plan), *_diagnostics(plan), *_schedules(plan)]
    if plan.targets:
        lines += [
            "",
            f"Only {code('--target ' + ' '.join(plan.targets))}: other endpoints not shown.",
        ]
    listed = _order([c for c in plan.changes if c.shown])
    if not listed:
        return "\n".join([*lines, "", _digest_line(plan)]) + "\n"
    note_room = 600  # the closing note, when anything is left out, and the digest line
    size = sum(len(line) + 1 for line in lines) + len(TABLE_HEAD) + note_room
    rows: list[str] = []
    for change in listed[:MAX_TABLE_ROWS]:
        row = _row(change)
        if size + len(row) + 1 > budget // 2:
            break
        rows.append(row)
        size += len(row) + 1
    rest = listed[len(rows) :]
    if rest:
        rows.append(_rest_row(rest))
        size += len(rows[-1]) + 1
    lines += ["", TABLE_HEAD, *rows]
    blocks: list[str] = []
    for change in listed:
        block = details(change)
        if size + len(block) + 2 > budget:
            break
        blocks.append(block)
        size += len(block) + 2
    for block in blocks:
        lines += ["", block]
    if len(blocks) < len(listed):
        left = len(listed) - len(blocks)
        lines += [
            "",
            f"_The details of {left} more endpoint(s) are left out to fit a comment; "
            "`provisioner show-plan PLAN` (or `plan`) shows every change._",
        ]
    lines += ["", _digest_line(plan)]
    return "\n".join(lines) + "\n"


def _digest_line(plan: Plan) -> str:
    """What a merge's apply checks against (`apply --reviewed-digest`): shown, and in a hidden
    marker a script finds without parsing the rest."""
    digest = changes_digest(plan)
    return f"<sub>Changes digest: `{digest}`</sub><!-- {DIGEST_MARKER} {digest} -->"
