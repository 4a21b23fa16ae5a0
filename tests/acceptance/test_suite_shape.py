"""The acceptance suite itself: one test per assumption, the emulator README's column, the
report table, the opt-in and the budget. (These run once, not per target.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from huggingface_hub.errors import HfHubHTTPError

from provisioner.emulator import Emulator
from tests.acceptance import test_contract
from tests.acceptance.assumptions import ASSUMPTIONS, BY_TEST, Result, render
from tests.acceptance.target import OPT_IN, Budget, emulator_target, live_refusal

README = Path(__file__).resolve().parents[2] / "provisioner" / "emulator" / "README.md"


def contract_tests() -> set[str]:
    return {name for name in vars(test_contract) if name.startswith("test_")}


def test_every_contract_test_names_its_assumption_and_back() -> None:
    assert contract_tests() == set(BY_TEST)
    assert len(BY_TEST) == len(ASSUMPTIONS)


def test_the_emulator_readme_names_existing_tests() -> None:
    table = README.read_text().split("## Behaviour / choice / evidence")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    named: set[str] = set()
    for row in rows:
        cell = row.rstrip(" |").rsplit(" | ", 1)[1]
        assert cell == "—" or cell.startswith("`test_"), row
        named |= set(re.findall(r"`(test_\w+)`", cell))
    assert named <= contract_tests()
    # Every assumption drawn from the emulator README is named there.
    from_readme = {a.test for a in ASSUMPTIONS if "emulator:" in a.source}
    assert from_readme <= named


def test_the_report_shows_both_targets_and_what_was_seen() -> None:
    results = {
        ("test_secrets_echoed_or_not", "emulator"): Result("passed", ("keys with placeholder",)),
        ("test_secrets_echoed_or_not", "live"): Result("passed", ("values echoed",)),
        ("test_pause_semantics", "emulator"): Result("passed", ("after pause min/max 0/0",)),
        ("test_pause_semantics", "live"): Result("failed", (), "AssertionError: 'running'"),
        ("test_revision_echo", "live"): Result("skipped", (), "live budget spent: 20 minutes"),
    }
    table = render(results)
    lines = table.splitlines()
    assert lines[0] == "| assumption | test | kind | emulator | real service |"
    assert len(lines) == 2 + len(ASSUMPTIONS)
    secrets = next(line for line in lines if "`test_secrets_echoed_or_not`" in line)
    assert secrets.endswith("| recorded | keys with placeholder | values echoed |")
    pause = next(line for line in lines if "`test_pause_semantics`" in line)
    assert pause.endswith(
        "| relied on | holds; after pause min/max 0/0 | **FAILS**; AssertionError: 'running' |"
    )
    revision = next(line for line in lines if "`test_revision_echo`" in line)
    assert revision.endswith("| not run | skipped (live budget spent: 20 minutes) |")


def test_the_live_target_is_opt_in() -> None:
    assert OPT_IN in (live_refusal({}) or "")
    assert "PROVISIONER_LIVE_NAMESPACE" in (live_refusal({"PROVISIONER_LIVE": "1"}) or "")
    assert "must be 1" in (live_refusal({"PROVISIONER_LIVE": "yes"}) or "")
    ready = {"PROVISIONER_LIVE": "1", "HF_TOKEN": "hf_x", "PROVISIONER_LIVE_NAMESPACE": "me"}
    assert live_refusal(ready) is None


def test_the_budget_refuses_beyond_its_endpoints_and_minutes() -> None:
    assert Budget.from_environ({}).max_endpoints == 3
    budget = Budget.from_environ({"PROVISIONER_LIVE_MAX_ENDPOINTS": "2"})
    budget.admit(1)
    with pytest.raises(pytest.skip.Exception, match="at most 2"):
        budget.admit(2)
    spent = Budget(max_endpoints=3, max_minutes=20, started=-1e9)
    with pytest.raises(pytest.skip.Exception, match="20 minutes"):
        spent.admit(0)
    with pytest.raises(pytest.UsageError):
        Budget.from_environ({"PROVISIONER_LIVE_MAX_MINUTES": "0"})


def test_a_refused_create_skips_only_when_asked(acceptance_emulator: Emulator) -> None:
    target = emulator_target(acceptance_emulator)
    broken = {"tgi": {"port": 80}}  # no url: the service answers 400
    with target.connected():
        refused = pytest.raises(pytest.skip.Exception, match=r"create refused \(400\)")
        with refused, target.endpoint("refused", custom_image=broken, refused_means_skip=True):
            pass
        with pytest.raises(HfHubHTTPError), target.endpoint("refused", custom_image=broken):
            pass
        # The budget is checked before anything is created.
        target.budget = Budget(max_endpoints=1, max_minutes=20)
        with target.endpoint("one") as name:
            with pytest.raises(pytest.skip.Exception, match="at most 1"):
                target.create("two")
            assert target.alive == {name}
        assert target.alive == set()
