"""How fast apply notices that endpoints are ready (issue: performance): the pause between ticks
adapts instead of a fixed 5 s, and the health probes of one tick are sent at once. Time here is
the emulator's (frozen, moved by the waiter's sleep), so the figures are exact, not timings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from provisioner.cli.context import _hub_api
from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.config import Durations
from provisioner.hub.api import EndpointsApi
from provisioner.hub.client import Connection
from provisioner.hub.retry import Retrier
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import Together, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def _ticks(emu: Emulator) -> int:
    return sum(
        1 for r in emu.requests() if r["method"] == "GET" and r["path"] == "/v2/endpoint/acme"
    )


def test_an_endpoint_ready_in_under_a_second_is_seen_in_about_a_second(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    """Ready 0.7 s after its create: the old fixed tick noticed at 5 s."""
    emu = make_emulator(durations=Durations(pending=0.2, initializing=0.5))
    specs = tmp_path / "endpoints"
    write_spec(specs, "quick", namespace="acme")
    started = emu.now()
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=context_for(emu))
    assert result.code == 0, result.text
    assert "✓ acme/quick: running" in result.out
    assert emu.now() - started <= 1.5  # 0.5 s, then 0.75 s: seen at the second tick


def test_a_long_wait_backs_off_to_the_interval_and_not_below(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    """Two minutes of initializing cost tens of list calls, not hundreds: after the first few
    ticks, one every 5 s (the interval), and one list per namespace per tick."""
    emu = make_emulator(durations=Durations(pending=0.0, initializing=120.0))
    specs = tmp_path / "endpoints"
    write_spec(specs, "slow", namespace="acme")
    started = emu.now()
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=context_for(emu))
    assert result.code == 0, result.text
    waited = emu.now() - started
    assert 120 <= waited <= 125  # noticed within one interval of becoming ready
    assert _ticks(emu) <= 2 + 120 / 5 + 6  # the plan's list, then about one per 5 s


def test_the_health_probes_of_one_tick_are_sent_at_once(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emu = make_emulator(EmulatorConfig(speed=0.0))
    specs = tmp_path / "endpoints"
    for name in ("a", "b", "c"):
        write_spec(specs, name, namespace="acme")
    wrapped: list[Together] = []

    def api_factory(connection: Connection, retrier: Retrier) -> EndpointsApi:
        wrapped.append(Together(_hub_api(connection, retrier), "health", expected=3))
        return wrapped[-1]  # type: ignore[return-value]

    ctx = replace(context_for(emu), api_factory=api_factory)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert result.code == 0, result.text
    assert [w.met for w in wrapped] == [True]
    assert result.out.count(": running (target running") == 3
