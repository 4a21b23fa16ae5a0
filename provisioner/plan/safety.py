"""Safety nets over a finished plan. Pure: a plan in, the same plan with diagnostics added.

- The mass-deletion guard: a plan that would delete all of a stack's endpoints, or more than a
  share of them, is refused unless the person says that is what they mean. An empty or
  half-read spec directory (a checkout gone wrong, specs moved, a folder renamed) looks exactly
  like a set of removed specs; this is the net under every such mistake.
- Namespaces that could not be listed: the plan says which, since this stack's endpoints there
  (an orphan to delete, say) are missing from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from provisioner.plan.model import Action, Plan
from provisioner.spec.diagnostics import Diagnostic, Mark, Severity

FLAG = "--allow-mass-delete"
_SHOWN = 5


def guard_mass_deletion(plan: Plan, *, where: Mark, max_percent: int, allowed: bool) -> Plan:
    """`plan`, with an error at `where` (the stack's settings file or directory) when it
    deletes every endpoint the stack manages, or more than `max_percent` of them."""
    if plan.destroy or allowed:
        return plan
    managed = [c for c in plan.changes if c.seen.exists]
    deleted = [c.address for c in plan.changes if c.action is Action.DELETE]
    everything = len(deleted) == len(managed)
    if not deleted or (not everything and len(deleted) * 100 <= len(managed) * max_percent):
        return plan
    names = ", ".join(deleted[:_SHOWN]) + (
        f" and {len(deleted) - _SHOWN} more" if len(deleted) > _SHOWN else ""
    )
    share = "all" if everything else f"more than {max_percent}%"
    message = (
        f"this plan deletes {len(deleted)} of the {len(managed)} endpoints stack {plan.stack!r} "
        f"manages ({share}: {names}); a spec directory with specs missing, unreadable or moved "
        f"looks like removed specs. If these deletions are intended, run again with {FLAG} "
        "(the limit is max_delete_percent in _settings.yaml; `provisioner destroy` deletes a "
        "whole stack)"
    )
    diagnostics = tuple(sorted((*plan.diagnostics, Diagnostic(where, message))))
    return replace(plan, diagnostics=diagnostics)


def warn_unlisted(plan: Plan, unlisted: Mapping[str, str], *, where: Mark) -> Plan:
    """`plan`, with a warning at `where` for every namespace that could not be listed."""
    warnings = [
        Diagnostic(
            where,
            f"namespace {namespace} could not be listed ({why}): endpoints stack {plan.stack!r} "
            "may manage there are not in this plan (none is changed or deleted)",
            Severity.WARNING,
        )
        for namespace, why in sorted(unlisted.items())
    ]
    if not warnings:
        return plan
    return replace(plan, diagnostics=tuple(sorted((*plan.diagnostics, *warnings))))
