"""Properties of the pure planner over generated fleets (issue: reliability): no plan ever changes
or deletes an endpoint its stack does not own (except adopting one its spec says to adopt), never
deletes a protected one, and does not depend on the order of the specs."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.hub.models import EndpointState, Fleet, LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.desired import create_config
from provisioner.plan.model import Action
from provisioner.plan.planner import PlanOptions, build_plan
from provisioner.spec.convert import structure
from provisioner.spec.defaults import with_defaults
from provisioner.spec.model import EndpointSpec, Source

STACK = "team"
NAMES = ("a", "b", "c", "d", "e", "f")
COMPUTE = {
    "vendor": "aws",
    "region": "us-east-1",
    "accelerator": "cpu",
    "instance_type": "intel-spr",
    "instance_size": "x2",
}


def _spec(name: str, *, adopt: bool, protect: bool, replicas: int) -> EndpointSpec:
    data = {
        "name": name,
        "namespace": "acme",
        "model": {"repository": "gpt2"},
        "compute": COMPUTE,
        "scaling": {"max_replicas": replicas},
        "adopt": adopt,
        "protect": protect,
    }
    return structure(with_defaults(data), source=Source(Path("x.yaml"), 0, {}))


# Per live endpoint: its owner (this stack, another, nobody), whether it carries the protection
# tag, whether it differs from the spec, and its state.
LIVE = st.tuples(
    st.sampled_from([STACK, "other", None]),
    st.booleans(),
    st.booleans(),
    st.sampled_from([EndpointState.RUNNING, EndpointState.PAUSED, EndpointState.FAILED]),
)
SPEC = st.tuples(st.booleans(), st.booleans())  # adopt, protect


def _live(name: str, owner: str | None, protected: bool, differs: bool, state: EndpointState):
    config = create_config(_spec(name, adopt=False, protect=False, replicas=1), stack="x")
    tags = ownership.tags_for((), stack=owner, protected=protected, applied=None) if owner else ()
    if owner is None and protected:
        tags = ("provisioner-protected",)
    config = replace(config, tags=tuple(tags), max_replica=2 if differs else 1)
    return LiveEndpoint("acme", name, config, state)


@settings(max_examples=300, deadline=None)
@given(
    specs=st.dictionaries(st.sampled_from(NAMES), SPEC),
    live=st.dictionaries(st.sampled_from(NAMES), LIVE),
    destroy=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_no_plan_touches_what_its_stack_may_not(
    specs: dict[str, tuple[bool, bool]],
    live: dict[str, tuple[str | None, bool, bool, EndpointState]],
    destroy: bool,
    seed: int,
) -> None:
    desired = [
        _spec(name, adopt=adopt, protect=protect, replicas=1)
        for name, (adopt, protect) in specs.items()
    ]
    endpoints = tuple(_live(name, *values) for name, values in live.items())
    fleet = Fleet(endpoints={"acme": endpoints})
    plan = build_plan(desired, fleet, PlanOptions(STACK, destroy=destroy))
    by_name = {e.name: e for e in endpoints}
    for change in plan.actionable:
        now = by_name.get(change.name)
        if now is None:
            assert change.action is Action.CREATE
            continue
        owner = ownership.owner(now.config.tags)
        adopting = owner is None and specs.get(change.name, (False, False))[0]
        assert owner == STACK or (adopting and change.action is Action.UPDATE), change
        if Action.DELETE in change.steps:
            assert not ownership.is_protected(now.config.tags), change
            assert not specs.get(change.name, (False, False))[1], change
    shuffled = list(desired)
    random.Random(seed).shuffle(shuffled)
    assert build_plan(shuffled, fleet, PlanOptions(STACK, destroy=destroy)) == plan
