"""The `release` workflow: read what is live, decide (`plan.release`), confirm, send each
tags-only update through the executor, and record it: the endpoint's record leaves the stack's
state (its secret fingerprints belong to the stack that manages it next, which sends its secrets
again when it differs) and the history gets a record with operation `release`.

The caller holds the stack's lock around `plan_release_stack` and `release`, as around a plan and
its apply. Nothing here prints or reads the environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from provisioner.apply.executor import Executor
from provisioner.apply.recording import history_actions, history_record
from provisioner.apply.results import Ledger, Outcome
from provisioner.apply.workflow import Collaborators, Recording, read_live, read_state
from provisioner.hub.api import EndpointsApi
from provisioner.hub.models import Identity
from provisioner.plan.model import Plan
from provisioner.plan.release import plan_release, split
from provisioner.spec.diagnostics import ProvisionerError
from provisioner.spec.stack import Stack
from provisioner.state.backend import BackendError
from provisioner.state.model import StateFormatError

OPERATION = "release"


def plan_release_stack(
    stack: Stack, api: EndpointsApi, identity: Identity, names: Sequence[str]
) -> Plan:
    """What releasing `names` from `stack` would send, or why it is refused (the plan's
    errors): the namespaces named are read whole, one list call each."""
    default = stack.default_namespace(identity.user)
    required = {split(name, default)[0] for name in names}
    fleet = read_live(api, identity, required=required)
    return plan_release(
        stack.settings.stack,
        names,
        stack.resolved_specs(identity.user),
        fleet,
        default_namespace=default,
    )


def release(
    api: EndpointsApi,
    plan: Plan,
    *,
    collaborators: Collaborators,
    recording: Recording,
    parallelism: int,
) -> list[Outcome]:
    """Confirm, then remove the stack's tags from each endpoint of `plan`; record what was
    released (even when interrupted). One outcome per endpoint."""
    if not plan.has_changes:
        return []
    collaborators.confirm(plan)
    ledger = Ledger(collaborators.reporter)
    store = recording.store
    started = store.now()
    executor = Executor(
        api,
        plan.stack,
        {},
        ledger,
        sleep=collaborators.sleep,
        clock=collaborators.clock,
        parallelism=parallelism,
    )
    outcomes: list[Outcome] | None = None
    try:
        outcomes = executor.run(plan)
    finally:
        try:
            _record(recording, plan, ledger, outcomes, started)
        except (BackendError, StateFormatError) as error:
            failure = ProvisionerError.because(
                f"the endpoints were released as reported, but the state at {store.location} "
                f"could not be written: {error}"
            )
            if outcomes is not None:
                raise failure from error
    return outcomes


def _record(
    recording: Recording,
    plan: Plan,
    ledger: Ledger,
    outcomes: Sequence[Outcome] | None,
    started: str,
) -> None:
    store = recording.store
    released = {a for a, o in ledger.outcomes.items() if o.ok}
    state = read_state(store)
    endpoints = {a: r for a, r in state.endpoints.items() if a not in released}
    written = store.write(replace(state, endpoints=endpoints))
    final = {
        o.change.address: o for o in (ledger.outcomes.values() if outcomes is None else outcomes)
    }
    actions = tuple(
        replace(done, action=OPERATION) for done in history_actions(plan, final, ledger.sent)
    )
    store.append(
        history_record(
            plan,
            recording.actor,
            actions,
            id=store.new_id(),
            started=started,
            finished=store.now(),
            serial=written.serial,
            operation=OPERATION,
            interrupted=outcomes is None,
        )
    )
