"""`provisioner show-plan FILE`: a saved plan rendered as `plan` printed it, with no API call
and no token (as `terraform show plan.tfplan`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from provisioner.cli.context import Context
from provisioner.emulator import Emulator
from tests.support.cli import Result

Cli = Callable[..., Result]


def _offline() -> Context:
    # No token, and an API address nothing listens on: any call would fail the command.
    return Context(environ={"PROVISIONER_API_URL": "http://127.0.0.1:9"})


def test_show_plan_renders_what_plan_printed_without_the_api(
    specs: Path, tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    saved = tmp_path / "plan.json"
    for output in ("text", "markdown", "json"):
        made = cli("plan", "--dir", str(specs), "--out", str(saved), "--format", output)
        assert made.code == 0, made.text
        shown = cli("show-plan", str(saved), "--format", output, ctx=_offline())
        assert shown.code == 0, shown.text
        assert shown.out == made.out
    # the cost came from the prices read when the plan was made (flan-t5-summarizer at its
    # schedule's share of the week)
    document = json.loads(cli("show-plan", str(saved), "--format", "json", ctx=_offline()).out)
    assert document["cost"]["monthly_after"] == {"low": 817.6, "high": 1652.77}
    assert cli("show-plan", str(saved), ctx=_offline()).out.startswith("Plan for stack")
    alias = cli("show-plan", str(saved), "--json", ctx=_offline())
    assert json.loads(alias.out) == document


def test_show_plan_refuses_an_edited_plan(
    specs: Path, tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    saved.write_text(saved.read_text().replace('"max_replica": 2', '"max_replica": 20', 1))
    result = cli("show-plan", str(saved), ctx=_offline())
    assert result.code == 1
    assert "checksum does not match" in result.err
