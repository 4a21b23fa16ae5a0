"""What `provisioner release` would do: for each endpoint named, a tags-only update that removes
this stack's markers (ownership, protection, last applied), or the reason it is refused. Pure.

Release is the inverse of `import`: the endpoint keeps running, untouched but for those tags, and
no stack manages it any more, so another stack can `import` it. Refused, each as a diagnostic:

- an endpoint that does not exist, or that the listing cannot read;
- one this stack does not own (another stack's, named, or one made by hand);
- one that still has a spec in this stack: the next plan would report its name as taken by an
  endpoint provisioner does not manage. The spec must be deleted (or moved to the stack that
  will import it) first, a choice left to the person, since a spec file may declare several
  endpoints and is often reviewed in git.

Must not: do I/O, or touch anything but the markers `ownership` defines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from provisioner.hub.models import Fleet, LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.document import fingerprint
from provisioner.plan.model import (
    Action,
    FieldChange,
    Plan,
    Reason,
    ReasonCode,
    ResourceChange,
    Seen,
)
from provisioner.spec.diagnostics import Address, Diagnostic
from provisioner.spec.model import EndpointSpec


def split(name: str, default_namespace: str) -> tuple[str, str]:
    """`ns/name` or `name` (in the default namespace)."""
    namespace, _, rest = name.rpartition("/")
    return (namespace or default_namespace, rest)


def release_change(endpoint: LiveEndpoint) -> ResourceChange:
    """The tags-only update that leaves only the user's own tags on `endpoint`."""
    tags = tuple(sorted(endpoint.config.tags))
    kept = ownership.user_tags(tags)
    return ResourceChange(
        namespace=endpoint.namespace,
        name=endpoint.name,
        action=Action.UPDATE,
        reasons=(Reason(ReasonCode.RELEASED),),
        seen=Seen(True, endpoint.state.value, fingerprint(endpoint)),
        steps=(Action.UPDATE,),
        fields=(FieldChange("tags", list(tags), list(kept)),),
        desired=replace(endpoint.config, tags=kept),
        sends=("tags",),
        protected=ownership.is_protected(tags),
    )


def plan_release(
    stack: str,
    names: Sequence[str],
    specs: Sequence[EndpointSpec],
    fleet: Fleet,
    *,
    default_namespace: str,
) -> Plan:
    """The release of `names` from `stack`; refusals are the plan's errors (nothing is
    released while any name is refused, so a typo in a list never releases half of it)."""
    live = fleet.index()
    declared = {(s.namespace or default_namespace, s.name): s for s in specs}
    unreadable = {
        (u.namespace, u.name): u for group in fleet.unreadable.values() for u in group if u.name
    }
    changes: dict[str, ResourceChange] = {}
    problems: list[Diagnostic] = []
    for given in names:
        key = split(given, default_namespace)
        address = Address(*key)
        endpoint = live.get(key)
        if key in unreadable:
            problems.append(
                Diagnostic(
                    address, f"{address} cannot be read: {unreadable[key].problem}; not released"
                )
            )
            continue
        if endpoint is None:
            problems.append(
                Diagnostic(address, f"{address}: no endpoint named {key[1]} in {key[0]}")
            )
            continue
        owner = ownership.owner(endpoint.config.tags)
        if owner is None:
            problems.append(
                Diagnostic(
                    address,
                    f"{address} is not managed by any stack (no provisioner-stack- tag): "
                    "nothing to release",
                )
            )
            continue
        if owner != stack:
            problems.append(
                Diagnostic(
                    address,
                    f"{address} is managed by stack {owner!r}, not {stack!r}: release it with that "
                    "stack's --dir",
                )
            )
            continue
        spec = declared.get(key)
        if spec is not None:
            problems.append(
                Diagnostic(
                    spec.source.mark("name"),
                    f"{endpoint.address} still has a spec in stack {stack!r}: delete this spec "
                    "(or move it to the stack that will import the endpoint) before releasing "
                    "it, or the next plan reports its name as taken",
                )
            )
            continue
        changes[endpoint.address] = release_change(endpoint)
    namespaces = tuple(sorted({c.namespace for c in changes.values()}))
    return Plan(
        stack=stack,
        changes=tuple(changes[a] for a in sorted(changes)) if not problems else (),
        diagnostics=tuple(sorted(problems)),
        namespaces=namespaces,
    )
