"""The library workflows, called directly (no CLI): `plan_stack`, `load_saved_plan`, `apply_plan`,
against the in-process emulator through the real huggingface_hub client (`HubApi`)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provisioner.apply.recording import Actor
from provisioner.apply.results import Outcome, SilentReporter
from provisioner.apply.workflow import (
    ApplyOptions,
    Collaborators,
    Recording,
    apply_plan,
    identify,
    load_saved_plan,
    plan_stack,
)
from provisioner.emulator import Emulator
from provisioner.hub.api import EndpointsApi
from provisioner.hub.client import HubApi, resolve_connection
from provisioner.hub.errors import ApiError
from provisioner.hub.retry import Retrier
from provisioner.plan.document import dumps
from provisioner.plan.model import Plan
from provisioner.spec.diagnostics import Address, Mark, ProvisionerError
from provisioner.spec.stack import Stack, load_stack
from provisioner.state.local import LocalBackend
from provisioner.state.model import EndpointRecord
from provisioner.state.store import StateStore
from tests.reconcile.helpers import live, mutations, write_spec

SECRET = "a-secret-value-for-the-workflow-tests"


def connect(emu: Emulator, token: str = "hf_demo") -> EndpointsApi:
    retrier = Retrier(sleep=emu.advance, clock=emu.now, rng=random.Random(0))
    return HubApi(resolve_connection(emu.url, {"HF_TOKEN": token}), retrier)


def stack_of(directory: Path) -> Stack:
    stack, diagnostics = load_stack(directory)
    assert not diagnostics.has_errors, list(diagnostics)
    return stack


def collaborators(emu: Emulator, confirm: Callable[[Plan], None] | None = None) -> Collaborators:
    if confirm is None:
        return Collaborators(SilentReporter(), clock=emu.now, sleep=emu.advance)
    return Collaborators(SilentReporter(), clock=emu.now, sleep=emu.advance, confirm=confirm)


def apply(emu: Emulator, api: EndpointsApi, plan: Plan, **environ: str) -> list[Outcome]:
    return apply_plan(api, plan, environ, collaborators=collaborators(emu))


def test_plan_apply_plan_converges_in_the_token_users_namespace(
    tmp_path: Path, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "mine")  # no namespace: the token's user's
    write_spec(specs, "theirs", namespace="acme")
    api = connect(emulator)
    identity = identify(api)
    plan, fleet = plan_stack(stack_of(specs), api, identity)
    assert [c.address for c in plan.actionable] == ["acme/theirs", "demo/mine"]
    assert set(fleet.endpoints) == {"demo", "acme"}  # every namespace the token may use
    outcomes = apply(emulator, api, plan)
    assert [(o.change.address, o.ok) for o in outcomes] == [
        ("acme/theirs", True),
        ("demo/mine", True),
    ]
    assert live(emulator, "demo")["mine"]["status"]["state"] == "running"
    again, _ = plan_stack(stack_of(specs), api, identity)
    assert not again.has_changes


def test_without_wait_apply_returns_once_the_changes_are_sent(
    tmp_path: Path, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    api = connect(emulator)
    plan = plan_stack(stack_of(specs), api, identify(api)).plan
    options = ApplyOptions(wait=False)
    outcomes = apply_plan(api, plan, {}, collaborators=collaborators(emulator), options=options)
    assert [o.ok for o in outcomes] == [True]
    assert live(emulator)["svc"]["status"]["state"] == "pending"


def test_destroy_plan_deletes_what_the_stack_owns(tmp_path: Path, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    api = connect(emulator)
    identity = identify(api)
    apply(emulator, api, plan_stack(stack_of(specs), api, identity).plan)
    doomed = plan_stack(stack_of(specs), api, identity, destroy=True).plan
    assert [(o.change.address, o.ok) for o in apply(emulator, api, doomed)] == [("acme/svc", True)]
    assert live(emulator) == {}


@pytest.mark.parametrize("environ", [{}, {"SVC_KEY": ""}], ids=["unset", "empty"])
def test_missing_secret_refuses_only_its_endpoint(
    tmp_path: Path, emulator: Emulator, environ: dict[str, str]
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"secrets": {"KEY": {"from_env": "SVC_KEY"}}})
    write_spec(specs, "other", namespace="acme")
    api = connect(emulator)
    plan = plan_stack(stack_of(specs), api, identify(api)).plan
    outcomes = apply_plan(api, plan, environ, collaborators=collaborators(emulator))
    by = {o.change.address: o for o in outcomes}
    assert by["acme/other"].ok
    refused = by["acme/svc"]
    assert not refused.ok and refused.refused
    assert "secret KEY needs environment variable SVC_KEY" in (refused.error or "")
    assert sorted(live(emulator)) == ["other"]
    again = plan_stack(stack_of(specs), api, identify(api)).plan
    outcomes = apply(emulator, api, again, SVC_KEY=SECRET)
    assert [(o.change.address, o.ok) for o in outcomes] == [("acme/svc", True)]


def test_confirmation_can_cancel_before_the_first_change(
    tmp_path: Path, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    api = connect(emulator)
    plan = plan_stack(stack_of(specs), api, identify(api)).plan

    def refuse(plan: Plan) -> None:
        raise ProvisionerError.because("cancelled")

    emulator.clear_requests()
    with pytest.raises(ProvisionerError, match="cancelled"):
        apply_plan(api, plan, {}, collaborators=collaborators(emulator, refuse))
    assert mutations(emulator) == []


def test_saved_plan_that_went_stale_is_refused_naming_the_endpoint(
    tmp_path: Path, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    write_spec(specs, "gone", namespace="acme")
    api = connect(emulator)
    identity = identify(api)
    apply(emulator, api, plan_stack(stack_of(specs), api, identity).plan)
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    write_spec(specs, "gone", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    saved = tmp_path / "plan.json"
    saved.write_text(dumps(plan_stack(stack_of(specs), api, identity).plan))
    assert load_saved_plan(saved, stack_of(specs), api, identity).has_changes  # still fresh
    api.delete_endpoint("acme", "gone")
    emulator.advance(60)
    with pytest.raises(ProvisionerError) as stopped:
        load_saved_plan(saved, stack_of(specs), api, identity)
    assert [(d.subject, d.message) for d in stopped.value.diagnostics] == [
        (Address("acme", "gone"), "acme/gone was deleted since the plan was made")
    ]
    assert stopped.value.note is not None and "is stale; nothing was changed" in stopped.value.note


def test_saved_plan_problems_point_at_the_plan_file(tmp_path: Path, emulator: Emulator) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_spec(first, "svc", namespace="acme")
    write_spec(second, "svc", namespace="acme")
    api = connect(emulator)
    identity = identify(api)
    saved = tmp_path / "plan.json"
    saved.write_text(dumps(plan_stack(stack_of(first), api, identity).plan))
    for content, expected in [
        (None, "this is a plan for stack 'first', but"),
        ("{not json", "not JSON"),
        ('{"format_version": "9.0"}', "plan format 9.0 cannot be read"),
    ]:
        if content is not None:
            saved.write_text(content)
        with pytest.raises(ProvisionerError) as stopped:
            load_saved_plan(saved, stack_of(second), api, identity)
        (problem,) = stopped.value.diagnostics
        assert problem.subject == Mark(saved)
        assert expected in problem.message
    with pytest.raises(ProvisionerError, match="cannot read the plan"):
        load_saved_plan(tmp_path / "missing.json", stack_of(second), api, identity)


def test_api_failures_are_provisioner_errors_chained_to_their_cause(
    tmp_path: Path, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    with pytest.raises(ProvisionerError, match="cannot identify the token's user") as who:
        identify(connect(emulator, token="hf_nobodyknowsthis"))
    assert isinstance(who.value.__cause__, ApiError)
    api = connect(emulator)
    identity = identify(api)
    emulator.add_fault(
        {"kind": "http", "method": "GET", "path": "/v2/endpoint/acme", "status": 403, "count": 1}
    )
    with pytest.raises(ProvisionerError) as unread:
        plan_stack(stack_of(specs), api, identity)
    (problem,) = unread.value.diagnostics
    assert problem.subject is None
    assert problem.message.startswith("cannot read the live endpoints: list endpoints of acme")
    assert isinstance(unread.value.__cause__, ApiError)


class _WritesStateMidApply(SilentReporter):
    """A second writer of the stack's state while apply runs (someone forced the lock): it
    records another endpoint."""

    def __init__(self, intruder: StateStore) -> None:
        self.intruder = intruder

    def finished(self, outcome: Outcome) -> None:
        state = self.intruder.read()
        record = EndpointRecord(spec={}, secrets=None, applied_at="then", applied_by="bob")
        self.intruder.write(replace(state, endpoints={**state.endpoints, "acme/other": record}))


def test_a_state_written_under_a_running_apply_is_merged_not_overwritten(
    tmp_path: Path, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    api = connect(emulator)
    stack = stack_of(specs)
    folder = tmp_path / "state"

    def store() -> StateStore:
        now = lambda: datetime.now(UTC)  # noqa: E731
        return StateStore(LocalBackend(folder), stack.settings.stack, now=now)

    plan, _ = plan_stack(stack, api, identify(api), store=store())
    intruder = store()
    outcomes = apply_plan(
        api,
        plan,
        {},
        collaborators=Collaborators(
            _WritesStateMidApply(intruder), clock=emulator.now, sleep=emulator.advance
        ),
        recording=Recording(store(), Actor(who="alice", host="laptop", pid=1)),
    )
    assert [o.ok for o in outcomes] == [True]
    kept = intruder.read()
    assert kept.serial == 2
    assert kept.endpoints["acme/other"].applied_by == "bob"  # the other writer's record stays
    assert kept.endpoints["acme/svc"].applied_by == "alice"  # and this apply's is added


class _InterruptedOnceAnswered(SilentReporter):
    """Ctrl-C just after the service accepted the change, before any waiting began."""

    def finished(self, outcome: Outcome) -> None:
        raise KeyboardInterrupt


def test_an_apply_interrupted_before_waiting_records_the_accepted_change_as_interrupted(
    tmp_path: Path, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    api = connect(emulator)
    stack = stack_of(specs)
    now = lambda: datetime.now(UTC)  # noqa: E731
    store = StateStore(LocalBackend(tmp_path / "state"), stack.settings.stack, now=now)
    plan, _ = plan_stack(stack, api, identify(api), store=store)
    with pytest.raises(KeyboardInterrupt):
        apply_plan(
            api,
            plan,
            {},
            collaborators=Collaborators(
                _InterruptedOnceAnswered(), clock=emulator.now, sleep=emulator.advance
            ),
            recording=Recording(store, Actor(who="alice", host="laptop", pid=1)),
        )
    (record,) = store.history()
    assert record.interrupted
    (action,) = record.actions
    assert (action.outcome, action.message) == (
        "interrupted",
        "accepted, but the apply was interrupted before it was running",
    )
    # The state follows what the service accepted: the endpoint's record is there.
    assert set(store.read().endpoints) == {"acme/svc"}
