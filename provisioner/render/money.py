"""How a monthly cost reads, in every plan format: amounts, ranges, signed deltas, and the
`before -> after (delta)` phrase. Pure; the figures come from `plan.cost` (stored in the plan),
this module only words them, so the text plan and the Markdown comment can never disagree.
"""

from __future__ import annotations

from provisioner.plan.cost import Cost, Range

EN = "\N{EN DASH}"  # between the bounds of a range


def money(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def monthly(found: Range | None) -> str:
    if found is None:
        return "unknown"
    if found.low == found.high:
        return money(found.low)
    return f"{money(found.low)}{EN}{money(found.high)}"


def signed(found: Range | None) -> str:
    """`+$87.60`, `-$48.91`, `$0.00 to +$97.82`, `no change`, `unknown`."""
    if found is None:
        return "unknown"

    def one(amount: float) -> str:
        return ("+" if amount > 0 else "") + money(amount)

    if found.low == found.high:
        return "no change" if found.low == 0 else one(found.low)
    return f"{one(found.low)} to {one(found.high)}"


def before_after(
    before: Range | None, after: Range | None, delta: Range | None, *, arrow: str
) -> str:
    """`$48.91 -> $97.82 (+$48.91)`, with the format's own arrow."""
    return f"{monthly(before)} {arrow} {monthly(after)} ({signed(delta)})"


def cost_changes(cost: Cost | None) -> bool:
    """Whether a change's monthly cost is known on both sides and differs: the only case the
    text plan spends a line on."""
    delta = None if cost is None else cost.delta
    return delta is not None and (delta.low, delta.high) != (0, 0)
