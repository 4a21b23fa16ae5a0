"""On a terminal, apply and destroy ask first; only "yes" proceeds."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.cli.context import Context
from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


@pytest.fixture
def terminal(context: Context) -> Context:
    context.stdin_is_tty = lambda: True
    return context


@pytest.mark.parametrize("answer", ["no\n", "y\n", "\n"])
def test_anything_but_yes_cancels(
    answer: str,
    tmp_path: Path,
    cli: Cli,
    emulator: Emulator,
    terminal: Context,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    monkeypatch.setattr(sys, "stdin", io.StringIO(answer))
    result = cli("apply", "--dir", str(specs), ctx=terminal)
    assert result.code == 1
    assert "Apply 1 change to stack 'endpoints'? Only 'yes' is accepted" in result.out
    assert "apply cancelled; nothing was changed" in result.err
    assert mutations(emulator) == []


def test_yes_applies(
    tmp_path: Path,
    cli: Cli,
    emulator: Emulator,
    terminal: Context,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    monkeypatch.setattr(sys, "stdin", io.StringIO("yes\n"))
    result = cli("apply", "--dir", str(specs), ctx=terminal)
    assert result.code == 0, result.text
    assert set(live(emulator)) == {"svc"}
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))
    destroyed = cli("destroy", "--dir", str(specs), ctx=terminal)
    assert destroyed.code == 1
    assert "destroy cancelled" in destroyed.err
    assert set(live(emulator)) == {"svc"}


def test_a_saved_plan_is_approved_and_a_fresh_apply_is_not(
    tmp_path: Path, cli: Cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Terraform's `apply PLANFILE`: the saved plan was reviewed when it was made, so it
    applies without a prompt or --auto-approve, on a terminal (stdin would say no) and not."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    fresh = cli("apply", "--dir", str(specs))
    assert fresh.code == 1
    assert "refusing to apply without confirmation: not a terminal" in fresh.err
    assert mutations(emulator) == []
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    applied = cli("apply", str(saved), "--dir", str(specs))
    assert applied.code == 0, applied.text
    assert "Only 'yes' is accepted" not in applied.out
    assert set(live(emulator)) == {"svc"}
    write_spec(specs, "other", namespace="acme")
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    terminal = context_for(emulator)
    terminal.stdin_is_tty = lambda: True
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))  # were it asked, it would cancel
    on_terminal = cli("apply", str(saved), "--dir", str(specs), ctx=terminal)
    assert on_terminal.code == 0, on_terminal.text
    assert "Only 'yes' is accepted" not in on_terminal.out
    assert set(live(emulator)) == {"svc", "other"}
