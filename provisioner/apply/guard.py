"""Before a saved plan is applied: refuse it if anything it covers changed since, and resolve
secret values from the environment. Both run before the first mutating call, so a stale plan
or a missing secret costs nothing."""

from __future__ import annotations

from collections.abc import Mapping

from provisioner.hub.models import EndpointState, Fleet, Secrets
from provisioner.plan.document import fingerprint
from provisioner.plan.model import Plan

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


def stale(plan: Plan, fleet: Fleet) -> list[str]:
    """One message per endpoint the plan would change whose live state moved on since."""
    live = fleet.index()
    problems = []
    for change in plan.actionable:
        now = live.get((change.namespace, change.name))
        seen = change.seen
        if not seen.exists and now is not None:
            problems.append(f"{change.address} was created since the plan was made")
        elif seen.exists and now is None:
            problems.append(f"{change.address} was deleted since the plan was made")
        elif now is not None and fingerprint(now) != seen.fingerprint:
            problems.append(f"{change.address} changed since the plan was made (configuration)")
        elif now is not None and _category(now.state.value) != _category(seen.state):
            problems.append(
                f"{change.address} changed since the plan was made "
                f"(state {seen.state} -> {now.state.value})"
            )
    return problems


def resolve_secrets(plan: Plan, environ: Mapping[str, str]) -> tuple[dict[str, Secrets], list[str]]:
    """Secret values per endpoint address, read from the environment; or what is missing."""
    resolved: dict[str, Secrets] = {}
    missing = []
    for change in plan.actionable:
        values = {}
        for key, variable in sorted((change.secrets or {}).items()):
            found = environ.get(variable)
            if found is None or found == "":
                missing.append(
                    f"{change.address}: secret {key} needs environment variable {variable}, "
                    "which is not set"
                )
            else:
                values[key] = found
        resolved[change.address] = Secrets(values)
    return resolved, missing
