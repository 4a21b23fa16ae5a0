"""The executor's own guarantees, checked against a recording stand-in for *our* API interface
(`provisioner.hub.api.EndpointsApi`), not huggingface_hub: bounded parallelism, step order, and
that one failure does not stop the others."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from provisioner.apply.executor import Executor
from provisioner.apply.results import SilentReporter
from provisioner.hub.errors import BadRequest, Conflict
from provisioner.hub.models import Config, EndpointState, Image, LiveEndpoint, Secrets
from provisioner.plan import ownership
from provisioner.plan.model import Action, Plan, ResourceChange, Seen

CONFIG = Config(
    repository="gpt2",
    framework="pytorch",
    image=Image("huggingface"),
    vendor="aws",
    region="us-east-1",
    accelerator="cpu",
    instance_type="intel-spr",
    instance_size="x2",
    min_replica=1,
    max_replica=1,
    type="authenticated",
    tags=("provisioner-applied-abc", "provisioner-stack-s"),
)


# Only reached when calls that should overlap do not: a sequential executor fails the test
# after this long instead of hanging it. A correct run never waits on it.
GATHER_TIMEOUT = 10.0


class RecordingApi:
    """Implements the create/get calls the executor makes; counts concurrent calls. With
    `gather=n`, every call waits until n calls are in flight at once before it returns: a run
    finishes only if the executor really overlaps n calls (no timing involved)."""

    def __init__(
        self,
        *,
        fail: set[str] = frozenset(),
        conflict: dict[str, Config] | None = None,
        gather: int = 1,
    ):
        self.fail = fail
        self.conflict = conflict or {}
        self.lock = threading.Lock()
        self.gathered = threading.Barrier(gather, timeout=GATHER_TIMEOUT)
        self.active = 0
        self.peak = 0
        self.calls: list[tuple[str, str]] = []

    def _enter(self, what: str, name: str) -> None:
        with self.lock:
            self.calls.append((what, name))
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self.gathered.wait()
        except threading.BrokenBarrierError:
            raise AssertionError(
                f"{self.gathered.parties} calls were never in flight at once"
            ) from None
        finally:
            with self.lock:
                self.active -= 1

    def create_endpoint(
        self, namespace: str, name: str, config: Config, secrets: Secrets
    ) -> LiveEndpoint:
        self._enter("create", name)
        if name in self.fail:
            raise BadRequest(f"create {namespace}/{name}: 400 Bad Request: nope", status=400)
        if name in self.conflict:
            raise Conflict(f"create {namespace}/{name}: 409 Conflict", status=409)
        return LiveEndpoint(namespace, name, config, EndpointState.PENDING)

    def get_endpoint(self, namespace: str, name: str) -> LiveEndpoint:
        self._enter("get", name)
        return LiveEndpoint(namespace, name, self.conflict[name], EndpointState.RUNNING)

    def pause(self, namespace: str, name: str) -> LiveEndpoint:
        self._enter("pause", name)
        return LiveEndpoint(namespace, name, CONFIG, EndpointState.PAUSED)


def creates(*names: str, steps: tuple[Action, ...] = (Action.CREATE,)) -> Plan:
    return Plan(
        stack="s",
        changes=tuple(
            ResourceChange("acme", n, Action.CREATE, (), Seen(False), steps=steps, desired=CONFIG)
            for n in names
        ),
    )


def executor(api: RecordingApi, parallelism: int) -> Executor:
    return Executor(
        api,  # type: ignore[arg-type]
        "s",
        {},
        SilentReporter(),
        sleep=lambda _: None,
        clock=lambda: 0.0,
        parallelism=parallelism,
    )


def test_parallelism_overlaps_calls_up_to_its_bound() -> None:
    # Each call returns only once 3 are in flight together: a sequential executor fails here.
    api = RecordingApi(gather=3)
    outcomes = executor(api, 3).run(creates(*[f"e{i}" for i in range(12)]))
    assert all(o.ok for o in outcomes)
    assert api.peak == 3
    one_at_a_time = RecordingApi()
    executor(one_at_a_time, 1).run(creates("a", "b", "c"))
    assert one_at_a_time.peak == 1


def test_a_failure_is_reported_and_the_others_finish() -> None:
    api = RecordingApi(fail={"bad"})
    outcomes = {o.change.name: o for o in executor(api, 4).run(creates("a", "bad", "c"))}
    assert outcomes["a"].ok and outcomes["c"].ok
    assert not outcomes["bad"].ok
    assert outcomes["bad"].error == "create acme/bad: 400 Bad Request: nope"


def test_steps_run_in_order_and_stop_at_the_first_failure() -> None:
    api = RecordingApi(fail={"bad"})
    executor(api, 1).run(creates("ok", "bad", steps=(Action.CREATE, Action.PAUSE)))
    assert api.calls == [("create", "ok"), ("pause", "ok"), ("create", "bad")]


def test_conflict_on_create_is_ours_only_with_our_tags() -> None:
    ours = RecordingApi(conflict={"svc": CONFIG})
    assert executor(ours, 1).run(creates("svc"))[0].ok
    foreign = replace(CONFIG, tags=("by-hand",))
    theirs = RecordingApi(conflict={"svc": foreign})
    outcome = executor(theirs, 1).run(creates("svc"))[0]
    assert not outcome.ok and "409 Conflict" in (outcome.error or "")
    assert ownership.owner(foreign.tags) is None


@pytest.mark.parametrize(
    "tags",
    [
        ("provisioner-applied-abc", "provisioner-stack-t"),  # another stack, the same spec
        ("provisioner-applied-def", "provisioner-stack-s"),  # this stack, another spec
        ("provisioner-applied-abc",),  # no owner at all
    ],
    ids=["other-stack", "other-spec", "unowned"],
)
def test_conflict_on_create_needs_both_our_stack_and_our_spec(tags: tuple[str, ...]) -> None:
    """A 409 is our own earlier create only if the endpoint carries this stack's tag *and* the
    digest of this very spec: anything else is someone else's endpoint, or an older one."""
    api = RecordingApi(conflict={"svc": replace(CONFIG, tags=tags)})
    outcome = executor(api, 1).run(creates("svc"))[0]
    assert not outcome.ok
    assert outcome.error == "create acme/svc: 409 Conflict"


@pytest.mark.parametrize("name", ["../demo/prod", "manual?x=1", "manual#frag", "a b", "x\n"])
def test_a_change_whose_name_fails_the_name_rule_is_refused_and_nothing_is_sent(
    name: str,
) -> None:
    """A saved plan can say anything: its addresses are checked again before any request."""
    api = RecordingApi()
    plan = replace(creates("ok"), changes=(*creates("ok").changes, *creates(name).changes))
    outcomes = {o.change.name: o for o in executor(api, 1).run(plan)}
    assert api.calls == [("create", "ok")]
    assert not outcomes[name].ok
    assert outcomes[name].error == (
        f"acme/{name!r}: refused: not a valid namespace and endpoint name; nothing was sent"
    )
