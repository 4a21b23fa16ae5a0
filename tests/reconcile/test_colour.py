"""A plan is coloured on a terminal, as Terraform's is, and never when NO_COLOR is set, TERM is
dumb, or the output is not a terminal (a pipe, a CI log, a PR comment)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
GREEN_PLUS = "\x1b[32m\x1b[1m+\x1b[0m"


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    folder = tmp_path / "endpoints"
    write_spec(folder, "svc", namespace="acme")
    return folder


def test_a_plan_on_a_terminal_is_coloured(specs: Path, cli: Cli, emulator: Emulator) -> None:
    terminal = replace(context_for(emulator), is_tty=lambda: True)
    shown = cli("plan", "--dir", str(specs), ctx=terminal)
    assert f"  {GREEN_PLUS} \x1b[1macme/svc:\x1b[0m create" in shown.out


@pytest.mark.parametrize(
    ("tty", "environ"), [(True, {"NO_COLOR": "1"}), (True, {"TERM": "dumb"}), (False, {})]
)
def test_no_colour_when_not_wanted(
    tty: bool, environ: dict[str, str], specs: Path, cli: Cli, emulator: Emulator
) -> None:
    context = replace(context_for(emulator, **environ), is_tty=lambda: tty)
    shown = cli("plan", "--dir", str(specs), ctx=context)
    assert "\x1b[" not in shown.out
    assert "  + acme/svc: create" in shown.out
