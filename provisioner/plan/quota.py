"""The quota check: does what a plan adds fit in each namespace's accelerator quota?

Pure: it reads the plan's changes, the specs they come from and the live fleet (endpoints and
the hardware listing, whose rows carry the namespace's quota), and returns diagnostics.

How quota is counted (as the service does, and the emulator after it; reference section 4):

- per namespace, per vendor and instance type (`/v2/provider/quotas/{ns}` lists quota by vendor
  and instance type, with no region; every listing row of one type repeats the same figures);
- in accelerators: `numAccelerators x max replicas` (a CPU x4 counts 4 per replica);
- every state holds its quota except `paused` and `failed` (scaled to zero still holds it);
- a create is checked for its declared max replicas, even one paused right after (the create is
  checked before the pause frees it); an update is checked net of what the endpoint holds now.

What a plan adds is, per quota, the sum over its changes of what each endpoint holds after the
change minus what it holds now: a delete or a replacement in the same plan frees its share.
Only a quota the plan adds to is checked: one already over its limit is not this plan's doing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from provisioner.hub.models import Config, EndpointState, Fleet, Hardware, LiveEndpoint
from provisioner.plan.desired import resumed_config
from provisioner.plan.hardware import hardware_row
from provisioner.plan.model import Action, ResourceChange
from provisioner.spec.diagnostics import Diagnostic, Mark, Severity
from provisioner.spec.model import EndpointSpec

# States that hold no quota (the official docs: a paused endpoint does not count against it).
QUOTA_FREE = frozenset({EndpointState.PAUSED, EndpointState.FAILED})

# namespace, vendor, instance type
QuotaKey = tuple[str, str, str]


@dataclass(frozen=True)
class _Share:
    """What one change adds to one quota, and where its spec declares it."""

    key: QuotaKey
    amount: int
    address: str
    mark: Mark | None
    path: str


def _accelerators(config: Config, hardware: Sequence[Hardware]) -> int:
    """Accelerators per replica; 1 for hardware the listing does not show (as the service
    counts an endpoint whose instance left the matrix)."""
    row = hardware_row(config, hardware)
    return 1 if row is None else row.num_accelerators


def _key(namespace: str, config: Config) -> QuotaKey:
    return (namespace, config.vendor, config.instance_type)


def _held(live: LiveEndpoint, hardware: Sequence[Hardware]) -> int:
    if live.state in QUOTA_FREE:
        return 0
    return _accelerators(live.config, hardware) * live.config.max_replica


def _after(change: ResourceChange, live: LiveEndpoint | None) -> Config | None:
    """The configuration whose quota the change leaves held (None: it holds none)."""
    steps = change.steps
    if change.action is Action.DELETE:
        return None
    if Action.CREATE in steps:
        return change.desired  # checked at create time, before any pause frees it
    assert live is not None
    paused = Action.PAUSE in steps or (
        live.state is EndpointState.PAUSED and Action.RESUME not in steps
    )
    if paused or live.state is EndpointState.FAILED:
        return None
    if change.desired is not None:
        return change.desired
    if Action.RESUME in steps and live.state is EndpointState.PAUSED:
        return resumed_config(live.config)
    return live.config


def _path(change: ResourceChange, live: LiveEndpoint | None, after: Config) -> str:
    """The spec key to point at: max replicas when only the count grows on the same hardware."""
    if live is None or Action.CREATE in change.steps or live.state in QUOTA_FREE:
        return "compute.instance_type"
    before = live.config
    same = (before.vendor, before.instance_type, before.instance_size) == (
        after.vendor,
        after.instance_type,
        after.instance_size,
    )
    return "scaling.max_replicas" if same else "compute.instance_type"


def _shares(
    change: ResourceChange,
    live: LiveEndpoint | None,
    spec: EndpointSpec | None,
    hardware: Sequence[Hardware],
) -> Iterable[_Share]:
    ns, address = change.namespace, change.address
    after = _after(change, live)
    path = "compute.instance_type" if after is None else _path(change, live, after)
    mark = None if spec is None else spec.source.mark(*path.split("."))
    if live is not None:
        yield _Share(_key(ns, live.config), -_held(live, hardware), address, mark, path)
    if after is not None:
        amount = _accelerators(after, hardware) * after.max_replica
        yield _Share(_key(ns, after), amount, address, mark, path)


def _limits(fleet: Fleet) -> dict[QuotaKey, tuple[int, int]]:
    """(max, used) per quota, as the hardware listing reports them."""
    limits: dict[QuotaKey, tuple[int, int]] = {}
    for namespace, rows in fleet.hardware.items():
        for row in rows:
            limits.setdefault(
                (namespace, row.vendor, row.instance_type), (row.quota_max, row.quota_used)
            )
    return limits


# How provisioner counts what an endpoint holds: the service's own unit is not documented.
UNIT = "counted as accelerators per replica x max_replicas"


def _message(
    key: QuotaKey, limit: tuple[int, int], added: int, share: _Share, *, allowed: bool
) -> str:
    namespace, vendor, instance_type = key
    quota_max, used = limit
    mine = "" if share.amount == added else f" ({share.amount} of them for {share.address})"
    found = (
        f"{share.path}: quota exceeded for {instance_type} on {vendor} in namespace "
        f"{namespace}: {used} of {quota_max} accelerators in use, this plan adds {added}{mine}, "
        f"{UNIT} (provisioner's reading of the quota)"
    )
    if allowed:
        return f"{found}; applied anyway (--allow-over-quota): the service may answer 409"
    return (
        f"{found}; apply refuses this plan before sending anything (the service would answer "
        "409): lower max_replicas, free some, or ask for more quota; if the service counts "
        "otherwise, `--allow-over-quota` lets it decide"
    )


def check_quota(
    changes: Sequence[ResourceChange],
    specs: Sequence[EndpointSpec],
    fleet: Fleet,
    *,
    allowed: bool = False,
) -> list[Diagnostic]:
    """One error per change that adds to a quota the plan would overrun, at its spec's
    `compute.instance_type` or `scaling.max_replicas` (a warning when `allowed`: the user says
    the service knows better). Namespaces whose hardware listing was not read are not
    checked."""
    by_key = {(s.namespace, s.name): s for s in specs}
    live_by_key = fleet.index()
    shares: list[_Share] = []
    for change in changes:
        hardware = fleet.hardware.get(change.namespace)
        if hardware is None or not change.is_change:
            continue
        key = (change.namespace, change.name)
        shares.extend(_shares(change, live_by_key.get(key), by_key.get(key), hardware))
    return _over(_net(shares), _limits(fleet), allowed=allowed)


def _net(shares: Sequence[_Share]) -> list[_Share]:
    """One share per change and quota: what it frees and what it takes, summed."""
    net: dict[tuple[QuotaKey, str], _Share] = {}
    for share in shares:
        found = net.get((share.key, share.address))
        if found is None:
            net[(share.key, share.address)] = share
        else:
            net[(share.key, share.address)] = replace(found, amount=found.amount + share.amount)
    return list(net.values())


def _over(
    shares: Sequence[_Share], limits: Mapping[QuotaKey, tuple[int, int]], *, allowed: bool
) -> list[Diagnostic]:
    added: dict[QuotaKey, int] = {}
    for share in shares:
        added[share.key] = added.get(share.key, 0) + share.amount
    problems = []
    for share in shares:
        limit = limits.get(share.key)
        total = added[share.key]
        if limit is None or share.amount <= 0 or share.mark is None or total <= 0:
            continue
        if limit[1] + total > limit[0]:
            severity = Severity.WARNING if allowed else Severity.ERROR
            text = _message(share.key, limit, total, share, allowed=allowed)
            problems.append(Diagnostic(share.mark, text, severity))
    return problems
