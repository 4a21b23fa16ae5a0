"""`plan --format markdown`: a pull-request comment a reviewer can trust, and that GitHub takes
(well-formed tables, under 65,536 characters, no secret)."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from provisioner.hub.models import Config, Image
from provisioner.plan.cost import Cost, Footprint
from provisioner.plan.document import loads
from provisioner.plan.model import (
    Action,
    FieldChange,
    Plan,
    Reason,
    ReasonCode,
    ResourceChange,
    Seen,
)
from provisioner.render.markdown import GITHUB_LIMIT, render_markdown
from provisioner.spec.diagnostics import Diagnostic, Mark, Severity
from tests.plan.test_plan_cases import CASES
from tests.support.markdown import table_count, table_problems

CPU = Config(
    repository="gpt2",
    framework="pytorch",
    image=Image("huggingface"),
    vendor="aws",
    region="us-east-1",
    accelerator="cpu",
    instance_type="intel-spr",
    instance_size="x2",
    min_replica=1,
    max_replica=2,
    type="authenticated",
    revision="a" * 40,
)
SPOT = Footprint("aws", "us-east-1", "cpu", "intel-spr", "x2", 1, 2, price_per_hour=0.067)
GPU = Footprint("aws", "us-east-1", "gpu", "nvidia-l4", "x1", 1, 1, price_per_hour=0.8)


def _change(name: str, action: Action, **kw: object) -> ResourceChange:
    steps = (Action.DELETE, Action.CREATE) if action is Action.REPLACE else (action,)
    values: dict[str, object] = {"steps": steps, "reasons": (Reason(ReasonCode.FIELDS_DIFFER),)}
    values.update(kw)
    return ResourceChange("acme", name, action, seen=Seen(exists=True), **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", CASES, ids=[c.name for c in CASES])
def test_every_golden_plan_renders_well_formed_tables(path: Path) -> None:
    plan = loads((path / "plan.json").read_text())
    text = render_markdown(plan)
    assert table_problems(text) == []
    if plan.has_changes:
        assert table_count(text) >= 1


def test_cells_escape_pipes_newlines_and_html() -> None:
    nasty = "a | b\nc <script>alert(1)</script> `x` **y**"
    change = _change(
        "nasty",
        Action.UPDATE,
        fields=(FieldChange("model.env.NOTE", "plain", nasty),),
        cost=Cost(SPOT, SPOT),
        desired=CPU,
    )
    text = render_markdown(Plan("s", changes=(change,)))
    assert table_problems(text) == []
    assert "<script>" not in text
    assert "a \\| b" in text  # a value is JSON: its newline is `\n`, its pipe escaped
    failed = _change(
        "failed",
        Action.REPLACE,
        reasons=(Reason(ReasonCode.FAILED_REPLACE, message="exit 137\nOOM | killed"),),
        desired=CPU,
        cost=Cost(SPOT, SPOT),
    )
    text = render_markdown(Plan("s", changes=(failed,)))
    assert table_problems(text) == []
    assert "exit 137<br>OOM \\| killed" in text


def test_secrets_only_as_changed_or_unchanged() -> None:
    create = _change(
        "new",
        Action.CREATE,
        desired=replace(CPU, env={"API_TOKEN": "hf_leak", "LEVEL": "debug"}),
        secrets={"API_KEY": "MY_API_KEY", "OTHER": "OTHER_VAR"},
        cost=Cost(None, SPOT),
    )
    update = _change(
        "old",
        Action.UPDATE,
        fields=(
            FieldChange("model.secrets.API_KEY", "(sensitive)", "(sensitive)", sensitive=True),
        ),
        secrets={"API_KEY": "MY_API_KEY", "OTHER": "OTHER_VAR"},
        desired=CPU,
        cost=Cost(SPOT, SPOT),
    )
    text = render_markdown(Plan("s", changes=(create, update)))
    assert "hf_leak" not in text
    assert "| `model.env.API_TOKEN` | — | (sensitive) |" in text
    assert '| `model.env.LEVEL` | — | "debug" |' in text
    assert "Secrets: `API_KEY` changed, `OTHER` unchanged." in text
    assert "(sensitive, changed)" in text


def test_warnings_and_costs_a_reviewer_sees() -> None:
    gpu = replace(
        CPU,
        accelerator="gpu",
        instance_type="nvidia-l4",
        instance_size="x1",
        type="public",
        revision="b" * 40,
    )
    plan = Plan(
        "s",
        changes=(
            _change(
                "upgrade",
                Action.UPDATE,
                desired=gpu,
                cost=Cost(SPOT, GPU),
                fields=(FieldChange("type", "authenticated", "public"),),
            ),
            _change(
                "moved", Action.REPLACE, desired=CPU, cost=Cost(SPOT, SPOT), revision_from="main"
            ),
            _change("gone", Action.DELETE, cost=Cost(GPU, None)),
            _change("same", Action.NOOP, cost=Cost(SPOT, SPOT)),
        ),
    )
    text = render_markdown(plan)
    first = text.splitlines()[0]
    # before: 3 x (1..2 x $0.067 x 730) + $584; after: 2 x that + $584 (the upgrade's GPU)
    assert first == (
        "**Plan for stack `s`**: 1 to update, 1 to replace, 1 to delete; 1 unchanged. "
        "Monthly cost: $730.73\N{EN DASH}$877.46 → $681.82\N{EN DASH}$779.64 "
        "(-$48.91 to -$97.82)."
    )
    # most consequential first
    rows = [line for line in text.splitlines() if line.startswith("| `acme/")]
    assert [r.split("`")[1] for r in rows] == ["acme/moved", "acme/gone", "acme/upgrade"]
    assert "| `acme/gone` | delete | aws/us-east-1 gpu nvidia-l4 x1 | 1 | $584.00 → — |" in text
    assert "**Replaced**" in text and "**Deleted**" in text
    assert "**Public**" in text and "**GPU added**: up to 1 GPU(s) at once (was 0)." in text
    assert "**Unpinned revision**: deploys main" in text


def _big_plan(count: int) -> Plan:
    rng = random.Random(7)
    actions = [Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.PAUSE]
    changes = []
    for i in range(count):
        action = rng.choice(actions)
        fields = tuple(
            FieldChange(f"model.env.VAR_{k}", "x" * 80, "y | z\n" * 10) for k in range(8)
        )
        changes.append(
            _change(
                f"endpoint-{i:03d}",
                action,
                fields=fields,
                desired=CPU,
                cost=Cost(SPOT, SPOT if action is not Action.DELETE else None),
            )
        )
    rng.shuffle(changes)
    return Plan("big", changes=tuple(changes))


def test_a_300_endpoint_plan_fits_a_comment_without_cutting_a_table() -> None:
    plan = _big_plan(300)
    text = render_markdown(plan)
    assert len(text) < GITHUB_LIMIT
    assert table_problems(text) == []
    rest = next(line for line in text.splitlines() if line.startswith("| …and "))
    listed = sum(1 for line in text.splitlines() if line.startswith("| `acme/endpoint-"))
    hidden = int(rest.split()[2])
    assert listed + hidden == 300
    # the counts per action of the rest add up
    counts = rest.split("|")[2].strip().split(", ")
    assert sum(int(c.split()[0]) for c in counts) == hidden
    assert "are left out to fit a comment" in text
    assert text.count("<details>") == text.count("</details>") >= 1
    # the same plan in any order renders the same
    shuffled = replace(plan, changes=tuple(sorted(plan.changes, key=lambda c: c.name)))
    assert render_markdown(shuffled) == text


def test_a_small_plan_is_whole() -> None:
    text = render_markdown(_big_plan(5))
    assert "…and" not in text and "left out" not in text
    assert text.count("<details>") == 5


def test_a_plan_without_costs_says_not_estimated_never_zero() -> None:
    """A plan saved before costs (or made without a hardware listing) has no figures to show."""
    text = render_markdown(Plan("s", changes=(_change("new", Action.CREATE, desired=CPU),)))
    assert "Monthly cost" not in text.splitlines()[0]
    assert (
        "| `acme/new` | create | aws/us-east-1 cpu intel-spr x2 | 1\N{EN DASH}2 | not estimated |"
        in text
    )
    assert "$0.00" not in text
    assert table_problems(text) == []


def test_the_plans_warnings_are_listed_under_the_summary() -> None:
    warning = Diagnostic(
        Mark(Path("endpoints/_settings.yaml")),
        "secrets of acme/x cannot be compared: $KEY is not set | here",
        Severity.WARNING,
    )
    plan = Plan(
        "s", changes=(_change("x", Action.DELETE, cost=Cost(SPOT, None)),), diagnostics=(warning,)
    )
    lines = render_markdown(plan).splitlines()
    assert lines[2] == (
        "- endpoints/\\_settings.yaml:1:1: warning: secrets of acme/x cannot be compared: $KEY is "
        "not set \\| here"
    )
