"""The mass-deletion guard: a plan that would delete all of a stack's endpoints, or more than a
share of them, is refused unless the person says that is what they mean.

An empty or half-read spec directory (a checkout gone wrong, specs moved, a folder renamed)
looks exactly like a set of removed specs; this is the net under every such mistake. Pure: a
plan in, the same plan with one more diagnostic out.
"""

from __future__ import annotations

from dataclasses import replace

from provisioner.plan.model import Action, Plan
from provisioner.spec.diagnostics import Diagnostic, Mark

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
