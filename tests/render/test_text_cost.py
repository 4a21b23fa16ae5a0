"""The text plan's monthly cost: the Markdown comment's figures, shown only where they are known
and where a change moves them."""

from __future__ import annotations

from dataclasses import replace

from provisioner.plan.cost import Cost
from provisioner.plan.model import Action, Plan
from provisioner.render.markdown import render_markdown
from provisioner.render.text import render_plan
from tests.render.test_markdown import CPU, GPU, SPOT, _change

EN = "\N{EN DASH}"


def _lines(text: str, address: str) -> list[str]:
    block = text.split(f" {address}: ", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines()]


def test_the_summary_and_each_change_say_what_the_comment_says() -> None:
    plan = Plan(
        "s",
        changes=(
            _change("upgrade", Action.UPDATE, desired=CPU, cost=Cost(SPOT, GPU)),
            _change("gone", Action.DELETE, cost=Cost(GPU, None)),
            _change("same", Action.NOOP, cost=Cost(SPOT, SPOT)),
        ),
    )
    text = render_plan(plan)
    summary = next(line for line in text.splitlines() if line.startswith("Plan: "))
    # before: 2 x (1..2 x $0.067 x 730) + $584 (the GPU); after: 1 x that + $584 (the upgrade)
    figures = f"$681.82{EN}$779.64 -> $632.91{EN}$681.82 (-$48.91 to -$97.82)"
    assert summary.endswith(f"; 1 unchanged. Monthly cost: {figures}.")
    assert f"Monthly cost: {figures.replace('->', '→')}." in render_markdown(plan)
    assert f"monthly cost: $48.91{EN}$97.82 -> $584.00 (+$535.09 to +$486.18)" in _lines(
        text, "acme/upgrade"
    )
    assert "monthly cost: $584.00 -> $0.00 (-$584.00)" in _lines(text, "acme/gone")


def test_no_line_where_the_cost_stays_or_a_price_is_unknown() -> None:
    unpriced = replace(GPU, price_per_hour=None)
    plan = Plan(
        "s",
        changes=(
            _change("tagged", Action.UPDATE, desired=CPU, cost=Cost(SPOT, SPOT)),
            _change("unpriced", Action.UPDATE, desired=CPU, cost=Cost(SPOT, unpriced)),
            _change("unestimated", Action.CREATE, desired=CPU),
        ),
    )
    text = render_plan(plan)
    assert "monthly cost" not in text.lower()
    # the comment, which has room to, says why
    assert "unknown" in render_markdown(replace(plan, changes=plan.changes[:2]))
