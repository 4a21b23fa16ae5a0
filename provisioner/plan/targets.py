"""`--target`: narrow a finished plan to the endpoints a person named. Pure: a plan in, a plan out.

A pattern is a shell-style glob (`fnmatch`, case-sensitive, as endpoint names are lowercase)
matched against an endpoint's name or its `namespace/name` address. Every change of the plan can
be targeted: creates, updates, pauses, deletes of endpoints whose spec was removed, and no-ops.

Why a filter over the finished plan rather than a planner option: the planner stays one pass over
the whole stack, so what a targeted plan says about an endpoint is exactly what the full plan says
about it. The other endpoints are not compared for the reader (the plan says so in a warning), and
nothing is sent for them; the mass-deletion guard still counts the whole stack (`safety`).

Diagnostics are kept whole: a spec error elsewhere in the stack still stops a targeted plan, as
Terraform's `-target` still validates the whole configuration. The one exception is the quota
check, which counts what the plan adds: a targeted plan adds only what its targets add, so it is
checked again over them (`recheck_quota`), and an over-quota create left out does not stop it.

Must not: do I/O, or change what a change says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from provisioner.hub.models import Fleet
from provisioner.plan.model import Plan, ResourceChange
from provisioner.plan.quota import check_quota
from provisioner.spec.diagnostics import Diagnostic, Mark, Severity
from provisioner.spec.model import EndpointSpec

FLAG = "--target"


def matches(change: ResourceChange, pattern: str) -> bool:
    """Does `pattern` name this change's endpoint (by name, or by `namespace/name`)?"""
    return fnmatchcase(change.name, pattern) or fnmatchcase(change.address, pattern)


def targeted(change: ResourceChange, patterns: Sequence[str]) -> bool:
    return any(matches(change, pattern) for pattern in patterns)


def select(plan: Plan, patterns: Sequence[str], *, where: Mark) -> Plan:
    """`plan` with only the changes `patterns` name, and `targets` set, plus a warning at
    `where` that it is partial. A pattern naming no endpoint of the stack is an error: a typo
    must not make a plan that silently does nothing. No patterns: `plan` unchanged."""
    if not patterns:
        return plan
    wanted = tuple(dict.fromkeys(patterns))
    kept = tuple(c for c in plan.changes if targeted(c, wanted))
    problems = [
        Diagnostic(
            where,
            f"{FLAG} {pattern!r} matches no endpoint of stack {plan.stack!r} "
            f"({_known(plan.changes)})",
        )
        for pattern in wanted
        if not any(matches(c, pattern) for c in plan.changes)
    ]
    problems.append(
        Diagnostic(
            where,
            f"this plan covers only {len(kept)} of {len(plan.changes)} endpoints ({FLAG}); "
            "the others are not compared",
            Severity.WARNING,
        )
    )
    return replace(
        plan,
        changes=kept,
        targets=wanted,
        diagnostics=tuple(sorted((*plan.diagnostics, *problems))),
    )


def _known(changes: Sequence[ResourceChange]) -> str:
    names = sorted(c.name for c in changes)
    if not names:
        return "it has no endpoints and no specs"
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"its endpoints: {shown}"


def recheck_quota(
    whole: Plan,
    narrowed: Plan,
    specs: Sequence[EndpointSpec],
    fleet: Fleet,
    *,
    allowed: bool = False,
) -> Plan:
    """`narrowed` (from `select`) with the whole plan's quota errors replaced by those of its
    own changes: what apply sends is only the targets' share."""
    if narrowed is whole:
        return narrowed
    before = set(check_quota(whole.changes, specs, fleet, allowed=allowed))
    kept = [d for d in narrowed.diagnostics if d not in before]
    found = check_quota(narrowed.changes, specs, fleet, allowed=allowed)
    return replace(narrowed, diagnostics=tuple(sorted((*kept, *found))))
