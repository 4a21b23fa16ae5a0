"""The acceptance suite's one switch: the `target` fixture, the emulator or the real service.

`make test` runs the contract tests against the in-process emulator only. `make acceptance`
(`PROVISIONER_ACCEPTANCE=1`, and `--confcutdir` so that `tests/conftest.py`, which keeps every
other test offline, is not loaded) runs them against both: the emulator, then the real service
when opted in (`PROVISIONER_LIVE=1`, `HF_TOKEN`, `PROVISIONER_LIVE_NAMESPACE`), else the live
half is skipped with the reason. Before the live half creates anything it says (terminal, and
the report) what it swept, which hardware it will use, its price and the worst case of the run;
a worst case beyond `PROVISIONER_LIVE_MAX_COST`, or no hardware with quota to spare, refuses the
live half (every live test skipped, exit status 1). It ends with the table of assumptions
(terminal summary) and writes it to `acceptance-report.md` (or `$PROVISIONER_ACCEPTANCE_REPORT`).
"""

from __future__ import annotations

import datetime
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

ACCEPTANCE_RUN = os.environ.get("PROVISIONER_ACCEPTANCE") == "1"

if "huggingface_hub" not in sys.modules:
    # Loaded without tests/conftest.py (`make acceptance`): keep huggingface_hub's caches out of
    # the user's home and its update check quiet. The token comes from HF_TOKEN only.
    os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="provisioner-acceptance-hf-home-")
    os.environ.setdefault("HF_HUB_DISABLE_UPDATE_CHECK", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.pop("HF_HUB_OFFLINE", None)  # offline mode would block the emulator too

from provisioner.emulator import Emulator, EmulatorConfig  # noqa: E402
from tests.acceptance.assumptions import BY_TEST, Result, render  # noqa: E402
from tests.acceptance.target import (  # noqa: E402
    EMULATOR,
    LIVE,
    OPT_IN,
    REFUSED,
    Target,
    emulator_target,
    environ,
    live_refusal,
    live_target,
    preflight,
)

TARGETS = (EMULATOR, LIVE) if ACCEPTANCE_RUN else (EMULATOR,)
RESULTS = pytest.StashKey[dict[tuple[str, str], Result]]()
LIVE_INFO = pytest.StashKey[dict[str, str]]()


@pytest.fixture(scope="session")
def acceptance_emulator() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(speed=0)) as emu:
        yield emu


@pytest.fixture(scope="session", params=TARGETS)
def _world(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == EMULATOR:
        yield emulator_target(request.getfixturevalue("acceptance_emulator"))
        return
    refusal = live_refusal(environ())
    info = request.config.stash.setdefault(LIVE_INFO, {})
    if refusal is not None:
        info["skipped"] = refusal
        pytest.skip(refusal)
    world = live_target(environ())
    info.update(namespace=world.namespace, prefix=world.prefix)
    with world.connected():
        before = preflight(world)
    said = [f"live run: namespace {world.namespace}, endpoints {world.prefix}-*", *before.said]
    info["said"] = "\n".join(said)
    refused = [] if before.refusal is None else [f"{REFUSED}{before.refusal}"]
    _say(request.config, [*said, *refused])
    if before.refusal is not None:
        info["refused"] = before.refusal
        pytest.skip(f"{REFUSED}{before.refusal}")
    try:
        yield world
    finally:
        with world.connected():
            left = world.sweep()
        hw = world.hardware_used
        if hw is not None:
            info["hardware"] = f"{hw.vendor}/{hw.region} {hw.instance_type} {hw.instance_size}"
        if left:
            info["swept"] = ", ".join(left)


def _say(config: pytest.Config, lines: list[str]) -> None:
    """Print at once, past pytest's capture: what a live run will use is said before it runs."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    disabled = capture.global_and_fixture_disabled() if capture is not None else nullcontext()
    with disabled:
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


@pytest.fixture
def target(_world: Target) -> Iterator[Target]:
    """Where this test runs: the in-process emulator, or the real service through the real
    client (never both). The client's URLs point at it for the test's duration."""
    with _world.connected():
        yield _world


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record what the test saw; the report shows it in the test's cell."""

    def record(text: str) -> None:
        request.node.user_properties.append(("observed", text))

    return record


def _detail(report: pytest.TestReport, call: pytest.CallInfo[Any]) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        # The opt-in reason and a refusal are said once, above the table.
        return "" if OPT_IN in reason or reason.startswith(REFUSED) else reason
    if report.failed and call.excinfo is not None:
        text = call.excinfo.exconly().splitlines()[0]
        return text if len(text) <= 160 else text[:157] + "..."
    return ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    report: pytest.TestReport = yield
    name = getattr(item, "originalname", item.name)
    callspec = getattr(item, "callspec", None)
    if name not in BY_TEST or callspec is None or "_world" not in callspec.params:
        return report
    key = (name, str(callspec.params["_world"]))
    results = item.config.stash.setdefault(RESULTS, {})
    if report.when == "call" or not report.passed or key not in results:
        if report.when == "teardown" and report.passed:
            return report
        observed = tuple(value for k, value in item.user_properties if k == "observed")
        results[key] = Result(report.outcome, observed, _detail(report, call))
    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    results = config.stash.get(RESULTS, {})
    if not ACCEPTANCE_RUN or not results:
        return
    info = config.stash.get(LIVE_INFO, {})
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if "skipped" in info:
        live = f"real service: skipped: {info['skipped']}"
    elif "refused" in info:
        live = f"real service: {REFUSED}{info['refused']}"
    else:
        live = (
            f"real service: namespace {info.get('namespace')}, endpoints "
            f"{info.get('prefix')}-*, hardware {info.get('hardware', 'none used')}"
        )
        if "swept" in info:
            live += f"; left behind and deleted at the end: {info['swept']}"
    said = info.get("said", "")
    table = render(results)
    terminalreporter.section("acceptance: what provisioner assumes about the service")
    terminalreporter.write_line(live)
    terminalreporter.write(table)
    path = Path(os.environ.get("PROVISIONER_ACCEPTANCE_REPORT", "acceptance-report.md"))
    before = "".join(f"- {line}\n" for line in said.splitlines())
    if before:
        before = f"Said before the first create:\n\n{before}\n"
    path.write_text(
        f"# Acceptance report ({now})\n\n{live}\n\n{before}"
        "`holds`: the assumption held; `**FAILS**`: provisioner relies on it and it did not "
        "hold; observations follow the outcome.\n\n" + table
    )
    terminalreporter.write_line(f"written to {path}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A refused live half ran nothing the user asked for: not a pass, though every test skipped.
    if session.config.stash.get(LIVE_INFO, {}).get("refused") and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
