"""The cost policies (`policies.max_monthly_cost_per_endpoint`, `policies.max_monthly_cost`):
checked on a plan whose changes carry their cost (`plan.estimate.with_costs`), since the prices
come from the namespace's hardware list. Pure: a plan in, the same plan with errors added.

Each endpoint the specs keep counts at its max_replicas after the plan; a price that is not
known fails the check (a limit that cannot be checked is not met). A plan that lowers the cost
(destroy) is never refused.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from provisioner.plan.estimate import totals
from provisioner.plan.model import Action, Plan, ResourceChange
from provisioner.spec.diagnostics import Diagnostic, Mark
from provisioner.spec.policies import Policies


def _mark(change: ResourceChange, where: Mark) -> Mark:
    """The spec line of a change (`file:line:col`), else the settings file."""
    if change.source is None:
        return where
    file, _, rest = change.source.rpartition(":")
    path, _, line = file.rpartition(":")
    if not path or not line.isdigit() or not rest.isdigit():
        return where
    return Mark(Path(path), int(line), int(rest))


def _usd(amount: float) -> str:
    return f"${amount:,.2f}"


def _per_endpoint(plan: Plan, limit: float, where: Mark) -> list[Diagnostic]:
    found = []
    for change in plan.changes:
        if change.action is Action.DELETE or change.refused or change.cost is None:
            continue
        after = change.cost.monthly_after
        if after is None:
            found.append(
                Diagnostic(
                    _mark(change, where),
                    f"{change.address}: policies.max_monthly_cost_per_endpoint cannot be "
                    "checked: the hardware list gives no price for its instance",
                )
            )
        elif after.high > limit:
            found.append(
                Diagnostic(
                    _mark(change, where),
                    f"{change.address} would cost up to {_usd(after.high)} a month at "
                    f"max_replicas, more than policies.max_monthly_cost_per_endpoint allows "
                    f"({_usd(limit)})",
                )
            )
    return found


def _stack(plan: Plan, limit: float, where: Mark) -> list[Diagnostic]:
    total = totals(plan)
    if total is None:
        return []
    if total.after is None:
        names = ", ".join(total.unknown)
        return [
            Diagnostic(
                where,
                f"policies.max_monthly_cost cannot be checked: no price for {names}",
            )
        ]
    if total.after.high <= limit or (
        total.before is not None and total.after.high <= total.before.high
    ):
        return []  # within the limit, or lowering a cost that was over it already
    return [
        Diagnostic(
            where,
            f"stack {plan.stack!r} would cost up to {_usd(total.after.high)} a month with every "
            f"endpoint at max_replicas, more than policies.max_monthly_cost allows "
            f"({_usd(limit)})",
        )
    ]


def check_cost_policies(plan: Plan, policies: Policies, *, where: Mark) -> Plan:
    if plan.destroy:
        return plan
    found = []
    if policies.max_monthly_cost_per_endpoint is not None:
        found += _per_endpoint(plan, policies.max_monthly_cost_per_endpoint, where)
    if policies.max_monthly_cost is not None:
        found += _stack(plan, policies.max_monthly_cost, where)
    if not found:
        return plan
    return replace(plan, diagnostics=tuple(sorted((*plan.diagnostics, *found))))
