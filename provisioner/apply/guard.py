"""Before a saved plan is applied: refuse it if anything it covers changed since or is not its
stack's to change (the live tags decide, whatever the file says), and resolve secret values
from the environment. Both run before the first mutating call, so a stale plan
or a missing secret costs nothing. Problems come back as diagnostics about the endpoint."""

from __future__ import annotations

from collections.abc import Mapping

from provisioner.hub.models import EndpointState, Fleet, Secrets
from provisioner.plan import ownership
from provisioner.plan.document import fingerprint
from provisioner.plan.model import Action, Plan, ResourceChange
from provisioner.spec.diagnostics import Address, Diagnostic

_UP = frozenset(
    {
        EndpointState.PENDING,
        EndpointState.INITIALIZING,
        EndpointState.UPDATING,
        EndpointState.RUNNING,
        EndpointState.SCALED_TO_ZERO,
    }
)


def _category(state: str | None) -> str:
    """States that only differ by the service's own progress count as the same."""
    if state is None:
        return "absent"
    try:
        parsed = EndpointState(state)
    except ValueError:
        return state
    return "up" if parsed in _UP else parsed.value


def _about(change: ResourceChange, message: str) -> Diagnostic:
    return Diagnostic(Address(change.namespace, change.name), f"{change.address} {message}")


def stale(plan: Plan, fleet: Fleet) -> list[Diagnostic]:
    """One diagnostic per endpoint the plan would change whose live state moved on since."""
    live = fleet.index()
    unreadable = {(u.namespace, u.name): u for group in fleet.unreadable.values() for u in group}
    problems = []
    for change in plan.actionable:
        now = live.get((change.namespace, change.name))
        seen = change.seen
        if (found := unreadable.get((change.namespace, change.name))) is not None:
            problems.append(_about(change, f"is listed but cannot be read now ({found.problem})"))
        elif not seen.exists and now is not None:
            problems.append(_about(change, "was created since the plan was made"))
        elif seen.exists and now is None:
            problems.append(_about(change, "was deleted since the plan was made"))
        elif now is not None and fingerprint(now) != seen.fingerprint:
            problems.append(_about(change, "changed since the plan was made (configuration)"))
        elif now is not None and _category(now.state.value) != _category(seen.state):
            problems.append(
                _about(
                    change,
                    f"changed since the plan was made (state {seen.state} -> {now.state.value})",
                )
            )
    return problems


def _adopting(change: ResourceChange, stack: str) -> bool:
    """An update that puts this stack's ownership tags on an unmanaged endpoint."""
    desired = change.desired
    return (
        change.action is Action.UPDATE
        and desired is not None
        and ownership.owner(desired.tags) == stack
    )


def foreign(plan: Plan, fleet: Fleet) -> list[Diagnostic]:
    """Endpoints a saved plan would touch that its stack may not: whatever the file says, the
    live ownership and protection tags decide."""
    live = fleet.index()
    problems = []
    for change in plan.actionable:
        now = live.get((change.namespace, change.name))
        if now is None:
            continue  # a create: `stale` says whether it still can be
        problem = not_ours(change, now.config.tags, plan.stack)
        if problem is not None:
            problems.append(_about(change, problem))
    return problems


def not_ours(change: ResourceChange, tags: tuple[str, ...], stack: str) -> str | None:
    """Why `stack` may not make `change` to a live endpoint carrying `tags`, or None. The
    executor asks again, on the very name it is about to address, just before sending."""
    owner = ownership.owner(tags)
    if owner is None and not _adopting(change, stack):
        return "is not managed by provisioner: no plan may change it"
    if owner is not None and owner != stack:
        return f"is managed by stack {owner!r}: a plan for {stack!r} may not"
    if Action.DELETE in change.steps and ownership.is_protected(tags):
        return "is protected: no plan may delete or replace it"
    return None


def _secret_problem(value: str | None, variable: str) -> str | None:
    """Why `value` cannot be sent as a secret, never quoting it; None when it can."""
    if value is None or value == "":
        return f"needs environment variable {variable}, which is not set"
    try:
        # Bytes the environment could not decode arrive as lone surrogates (PEP 383): JSON
        # cannot carry them, and the request would fail after other changes went out.
        value.encode("utf-8")
    except UnicodeEncodeError:
        return (
            f"needs environment variable {variable}, whose value is not valid UTF-8 (it holds "
            "undecodable bytes): set it again as UTF-8 text"
        )
    return None


def resolve_secrets(
    plan: Plan, environ: Mapping[str, str]
) -> tuple[dict[str, Secrets], list[Diagnostic]]:
    """Secret values per endpoint address, read from the environment; or what is missing or
    cannot be sent (named by secret and variable, never by value)."""
    resolved: dict[str, Secrets] = {}
    missing = []
    for change in plan.actionable:
        values = {}
        for key, variable in sorted((change.secrets or {}).items()):
            found = environ.get(variable)
            problem = _secret_problem(found, variable)
            if problem is not None:
                message = f"{change.address}: secret {key} {problem}"
                missing.append(Diagnostic(Address(change.namespace, change.name), message))
            elif found is not None:
                values[key] = found
        resolved[change.address] = Secrets(values)
    return resolved, missing
