"""The acceptance suite itself: one test per assumption, the emulator README's column, the
report table, the opt-in, the budget and what a live run says and spends before its first create
(hardware with quota, the worst case, the sweep of earlier runs, the one create helper). (These
run once, not per target; what talks to a service talks to an emulator of its own.)"""

from __future__ import annotations

import ast
import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from huggingface_hub import HfApi, InferenceEndpointHardware
from huggingface_hub.errors import HfHubHTTPError

from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.plan import ownership
from provisioner.spec.checks import is_conservative_tag
from tests.acceptance import test_contract
from tests.acceptance.assumptions import ASSUMPTIONS, BY_TEST, Result, render
from tests.acceptance.spend import Budget, Refused, check_cost, pick_hardware, worst_case
from tests.acceptance.target import (
    OPT_IN,
    SUITE_TAG,
    Target,
    emulator_target,
    live_refusal,
    preflight,
)

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


# --- what a live run uses and spends, said before its first create -----------------------------


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Emulators of the test's own (`EmulatorConfig` fields as keywords), stopped at its end."""
    with contextlib.ExitStack() as stack:
        yield lambda **options: stack.enter_context(Emulator(EmulatorConfig(speed=0, **options)))


def hardware_rows(emu: Emulator) -> list[InferenceEndpointHardware]:
    target = emulator_target(emu)
    with target.connected():
        return target.api.list_inference_endpoints_hardware(namespace="demo")


def connected(emu: Emulator, **fields: object) -> Target:
    target = emulator_target(emu)
    for key, value in fields.items():
        setattr(target, key, value)
    return target


def test_the_cheapest_cpu_row_with_quota_for_the_run_is_picked(
    make_emulator: Callable[..., Emulator],
) -> None:
    own_emulator = make_emulator()
    rows = hardware_rows(own_emulator)
    hw = pick_hardware(rows, at_once=3, namespace="demo")
    assert (hw.vendor, hw.region, hw.instance_type, hw.instance_size) == (
        "aws",
        "eu-west-1",  # as cheap as us-east-1: ties go by vendor, then region
        "intel-spr",
        "x1",
    )
    assert (hw.price_per_hour, hw.bigger_size, hw.bigger_price) == (0.033, "x2", 0.067)
    # intel-icl is cheaper (0.032) but deprecated: never picked.
    # aws intel-icl x1 is cheaper (0.032) but deprecated: never picked.
    assert any(r.instance_type == "intel-icl" and r.price_per_hour < 0.033 for r in rows)


def test_a_row_without_room_for_the_run_is_passed_over(
    make_emulator: Callable[..., Emulator],
) -> None:
    own_emulator = make_emulator(quotas={"demo": {"aws": {"intel-spr": 4}}})
    target = emulator_target(own_emulator)
    with target.connected():
        # Two endpoints of aws intel-spr already hold 2 of the 4 accelerators.
        target.create("a")
        target.create("b")
        rows = target.api.list_inference_endpoints_hardware(namespace="demo")
    aws = pick_hardware(rows, at_once=2, namespace="demo")
    assert (aws.vendor, aws.instance_size, aws.bigger_size) == ("aws", "x1", None)
    assert aws.needs(2) == 2  # x2 would need 1 + 2 = 3 of the 2 left: the size test skips
    cheapest_elsewhere = pick_hardware(rows, at_once=3, namespace="demo")
    assert (cheapest_elsewhere.vendor, cheapest_elsewhere.price_per_hour) == ("gcp", 0.05)
    assert cheapest_elsewhere.bigger_size == "x2"


def test_no_row_with_room_refuses_before_any_create(make_emulator: Callable[..., Emulator]) -> None:
    own_emulator = make_emulator(
        quotas={"*": {"aws": {"intel-spr": 2}, "azure": {"intel-xeon": 0}, "gcp": {"intel-spr": 1}}}
    )
    target = connected(own_emulator, budget=Budget(max_endpoints=3))
    with target.connected():
        before = preflight(target)
    assert before.refusal is not None
    assert "no deployable CPU hardware in demo has quota for 3 endpoint(s)" in before.refusal
    assert "aws/eu-west-1 intel-spr x1: 0 of 2 accelerators in use" in before.refusal
    assert "PROVISIONER_LIVE_MAX_ENDPOINTS" in before.refusal
    assert not [r for r in own_emulator.requests() if r["method"] == "POST"]


def test_the_worst_case_is_said_and_refused_above_the_budget(
    make_emulator: Callable[..., Emulator],
) -> None:
    own_emulator = make_emulator()
    rows = hardware_rows(own_emulator)
    hw = pick_hardware(rows, at_once=3, namespace="demo")
    budget = Budget(max_endpoints=3, max_minutes=20)
    # The dearest size the run uses (x2 for the in-place update), for every endpoint, all along.
    assert worst_case(hw, budget) == pytest.approx(3 * 0.067 * 20 / 60)
    check_cost(hw, budget)  # $0.07 is within the default $2.00
    target = connected(own_emulator, budget=budget)
    with target.connected():
        said = preflight(target)
    assert said.refusal is None
    text = "\n".join(said.said)
    assert "hardware: aws/eu-west-1 intel-spr x1 (cpu, 1 x " in text
    assert "$0.033/h per replica" in text
    assert "intel-spr x2 at $0.067/h" in text
    assert "worst case: 3 endpoint(s) at once x $0.067/h x 20 min = $0.07" in text
    assert "(PROVISIONER_LIVE_MAX_COST $2.00)" in text

    dear = Budget(max_endpoints=3, max_minutes=600, max_cost=1.5)
    with pytest.raises(Refused) as refused:
        check_cost(hw, dear)
    message = str(refused.value)
    assert "3 endpoint(s) at once x $0.067/h x 600 min = $2.01" in message
    assert "above PROVISIONER_LIVE_MAX_COST ($1.50)" in message
    assert "PROVISIONER_LIVE_MAX_COST=2.01" in message
    target = connected(own_emulator, budget=dear)
    with target.connected():
        assert preflight(target).refusal == message
    assert not [r for r in own_emulator.requests() if r["method"] == "POST"]


def test_the_cost_budget_comes_from_the_environment() -> None:
    assert Budget.from_environ({}).max_cost == 2.00
    assert Budget.from_environ({"PROVISIONER_LIVE_MAX_COST": "0.5"}).max_cost == 0.5
    for wrong in ("cheap", "0", "-1", "inf", "nan"):
        with pytest.raises(pytest.UsageError):
            Budget.from_environ({"PROVISIONER_LIVE_MAX_COST": wrong})


def test_the_sweep_deletes_what_earlier_runs_left_on_every_page(
    make_emulator: Callable[..., Emulator],
) -> None:
    own_emulator = make_emulator(list_page_size=2)
    earlier = [emulator_target(own_emulator) for _ in range(2)]
    current = emulator_target(own_emulator)
    with current.connected():
        left = [run.name(suffix) for run in earlier for suffix in ("a", "b", "c")]
        for run in earlier:
            for suffix in ("a", "b", "c"):
                run.create(suffix)
        # Not the suite's (no suite tag): a user's endpoint and one merely named like the suite's.
        api = HfApi(endpoint=own_emulator.url, token="hf_demo")
        hw = current.hardware
        for name, tags in (("my-model", ["team-x"]), ("prov-acc-abcdef-mine", [])):
            api.create_inference_endpoint(
                name,
                repository="openai-community/gpt2",
                framework="pytorch",
                accelerator=hw.accelerator,
                instance_type=hw.instance_type,
                instance_size=hw.instance_size,
                vendor=hw.vendor,
                region=hw.region,
                min_replica=0,
                scale_to_zero_timeout=15,
                tags=tags,
                namespace="demo",
            )
        mine = current.name("now")
        current.create("now")
        # huggingface_hub reads the first page only: most leftovers are beyond it.
        assert len(api.list_inference_endpoints(namespace="demo")) == 2
        assert len(current.listed()) == 9

        # One delete the service refuses: said, and the sweep goes on.
        stuck = left[0]
        own_emulator.add_fault(
            {
                "kind": "http",
                "method": "DELETE",
                "path": f"/v2/endpoint/demo/{stuck}",
                "status": 409,
            }
        )
        found = current.sweep_earlier()
        assert sorted(found.swept) == sorted(left)
        assert found.spared == ("prov-acc-abcdef-mine",)
        said = "\n".join(found.lines())
        assert "5 endpoint(s) left by earlier runs (tag prov-acc-suite) deleted" in said
        assert f"{left[-1]} (" in said
        assert f"could not delete (delete them yourself): {stuck} (" in said
        assert "left alone, named like the suite's but without its tag" in said
        own_emulator.advance(5)  # past the delete grace
        remaining = {item["name"] for item in current.listed()}
        assert remaining == {"my-model", "prov-acc-abcdef-mine", mine, stuck}
        # The run's own sweep at the end reads every page too.
        current.create("later")
        assert sorted(current.sweep()) == sorted([mine, current.name("later")])


def test_every_create_is_tagged_and_scales_to_zero_unless_told_why(
    make_emulator: Callable[..., Emulator],
) -> None:
    own_emulator = make_emulator()
    target = emulator_target(own_emulator)
    with target.connected():
        for idle in ({"min_replica": 1}, {"scale_to_zero_timeout": None}):
            with pytest.raises(ValueError, match="billed while idle"):
                target.create("idle", **idle)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="one replica"):
            target.create("two", max_replica=2)
        assert not [r for r in own_emulator.requests() if r["method"] == "POST"]
        made = target.create("kept", min_replica=1, billed_while_idle="needs a warm replica")
        assert made.raw["compute"]["scaling"]["minReplica"] == 1
        with target.endpoint("tagged", tags=["team-x"]) as name:
            assert sorted(target.get(name)["tags"]) == ["prov-acc-suite", "team-x"]
            target.update(name, tags=["team-y"])
            assert sorted(target.get(name)["tags"]) == ["prov-acc-suite", "team-y"]
            scaling = target.get(name)["compute"]["scaling"]
            assert scaling["scaleToZeroTimeout"] == 15
        assert SUITE_TAG in target.answers[target.name("kept")]["tags"]


def test_no_contract_test_creates_but_through_the_helper() -> None:
    tree = ast.parse(Path(test_contract.__file__).read_text())
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert "create_inference_endpoint" not in called
    assert "billed_while_idle" not in Path(test_contract.__file__).read_text()


def test_the_longest_ownership_tag_is_the_stack_marker_of_58_characters() -> None:
    tag = test_contract.longest_ownership_tag("prov-acc-0a1b2c")
    assert tag.startswith(ownership.STACK)
    assert len(tag) == 58
    assert is_conservative_tag(tag)
    assert ownership.owner([tag]) == tag.removeprefix(ownership.STACK)


def test_engine_options_are_recorded_kept_changed_or_dropped() -> None:
    sent = test_contract.VLLM_OPTIONS
    image = {"vLLM": {"url": "x", "maxModelLen": 1024, "enforceEager": False}}
    kept, changed, dropped = test_contract.kept_options(image, sent)
    assert (kept, changed, dropped) == (
        ["maxModelLen"],
        ["enforceEager=False"],
        ["gpuMemoryUtilization"],
    )
    assert test_contract.kept_options({"custom": {}}, sent) == ([], [], list(sent))
