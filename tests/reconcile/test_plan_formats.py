"""`plan --format text|markdown|json` against the emulator (`--json` is `--format json`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema

from tests.support.cli import Result
from tests.support.markdown import table_problems

Cli = Callable[..., Result]


def test_markdown_plan_of_the_examples(specs: Path, cli: Cli) -> None:
    result = cli("plan", "--dir", str(specs), "--format", "markdown")
    assert result.code == 0, result.text
    first = result.out.splitlines()[0]
    assert first.startswith("**Plan for stack `acme-inference`**: 5 to create; 0 unchanged.")
    assert "Monthly cost: $0.00 → " in first
    assert table_problems(result.out) == []
    assert result.out.count("<details>") == 5
    assert (
        "| `acme/support-assistant` | create (protected) | aws/us-east-1 gpu nvidia-l4 x1 "
        "| 1\N{EN DASH}2 | — → $584.00\N{EN DASH}$1,168.00 |" in result.out
    )


def test_json_is_format_json_and_carries_costs(specs: Path, cli: Cli) -> None:
    alias = cli("plan", "--dir", str(specs), "--json")
    chosen = cli("plan", "--dir", str(specs), "--format", "json")
    assert alias.code == chosen.code == 0
    assert alias.out == chosen.out
    document = json.loads(chosen.out)
    assert document["format_version"] == "1.8"
    assert document["cost"]["monthly_before"] == {"low": 0.0, "high": 0.0}
    assert all(c["actions"] == c["steps"] for c in document["changes"])
    schema = json.loads(cli("schema", "--kind", "plan").out)
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document)) == []
    text = cli("plan", "--dir", str(specs))
    assert text.out.startswith("Plan for stack 'acme-inference'")


def test_json_and_another_format_disagree(specs: Path, cli: Cli) -> None:
    result = cli("plan", "--dir", str(specs), "--json", "--format", "markdown")
    assert result.code == 1
    assert "--json and --format markdown disagree" in result.err
