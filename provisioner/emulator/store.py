"""The endpoint store: namespaces, the operations on endpoints, and quota accounting.

Owns what each operation does in each state (the table in README.md), hardware and quota checks,
the delete grace period and how long a deleted name stays reserved after it. Every read settles
the records it returns, so state is always current for the emulated time given. Callers hold the
service lock; nothing here is thread-safe on its own.

Cost: every operation is O(1) except listing, which is O(endpoints in the namespace). Quota usage is
kept as running sums per (namespace, vendor, instanceType), adjusted whenever an endpoint starts or
stops holding quota; the only time-driven change of holding (a deploy scripted to fail) is tracked
in a small set and settled before any quota is read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence

from provisioner.emulator.config import Durations, Quotas
from provisioner.emulator.faults import Faults, without
from provisioner.emulator.hardware import Compute, Hardware, QuotaKey
from provisioner.emulator.images import check_parallelism
from provisioner.emulator.lifecycle import (
    QUOTA_FREE,
    Record,
    State,
    deploy,
    resume,
    still,
    update,
    wake,
)
from provisioner.emulator.logs import scaling_line
from provisioner.emulator.schema import (
    Spec,
    apply_patch,
    replica_counts,
    validate,
    with_replicas,
)
from provisioner.emulator.wire import ApiError, bad_request, conflict, not_found

RecordKey = tuple[str, str]

# States in which a PUT redeploys the endpoint (updating -> running). Paused and scaled-to-zero
# endpoints store the new config and stay put; it applies when they next start. Replica counts are
# the exception: a PUT leaving `maxReplica` 0 pauses any endpoint, and one carrying counts >= 1
# resumes a paused one (the official guide: updating min/max replicas pauses or resumes).
REDEPLOY_STATES = frozenset(
    {State.PENDING, State.INITIALIZING, State.RUNNING, State.UPDATING, State.UPDATE_FAILED}
)
STARTING = frozenset({State.PENDING, State.INITIALIZING, State.UPDATING})


class Store:
    def __init__(
        self,
        *,
        hardware: Hardware,
        durations: Durations,
        quotas: Quotas,
        faults: Faults,
        refuse_updates_while_starting: bool = False,
    ) -> None:
        self._refuse_starting = refuse_updates_while_starting
        self._hardware = hardware
        self._d = durations
        self._quotas = quotas
        self._faults = faults
        self._spaces: dict[str, dict[str, Record]] = {}
        self._usage: dict[tuple[str, QuotaKey], int] = {}
        self._doomed: set[RecordKey] = set()
        self._deleted: deque[Record] = deque()
        # Names still refused after their endpoint is gone (`Durations.name_reserved`): until when.
        self._reserved: dict[RecordKey, float] = {}
        self._reserved_order: deque[tuple[float, RecordKey]] = deque()
        # How many times each name was created: a re-created endpoint's URL is a new one.
        self._generations: dict[RecordKey, int] = {}
        self.version = 0  # bumped by every mutation; persistence saves when it moves

    # --- reading ------------------------------------------------------------------------------

    def list(self, namespace: str, now: float) -> list[Record]:
        self._purge(now)
        records = list(self._spaces.get(namespace, {}).values())
        for rec in records:
            self._settle(rec, now)
        return records

    def get(self, namespace: str, name: str, *, now: float) -> Record:
        """A visible endpoint (including one in its delete grace period), settled; else 404."""
        self._purge(now)
        rec = self._spaces.get(namespace, {}).get(name)
        if rec is None:
            raise not_found(name)
        self._settle(rec, now)
        return rec

    def records(self) -> Iterable[Record]:
        for space in self._spaces.values():
            yield from space.values()

    def quota_of(self, namespace: str, now: float) -> Callable[[QuotaKey], tuple[int, int]]:
        self._settle_doomed(now)
        return lambda key: (self._limit(namespace, key), self._usage.get((namespace, key), 0))

    # --- operations ---------------------------------------------------------------------------

    def create(self, namespace: str, spec: Spec, *, by: str, now: float) -> Record:
        self._purge(now)
        compute = self._compute(spec)
        if not compute.deployable:
            raise _unavailable(compute)
        check_parallelism(
            spec["model"]["image"], accelerators=compute.num_accelerators, compute_id=compute.id
        )
        space = self._spaces.setdefault(namespace, {})
        existing = space.get(spec["name"])
        if existing is not None:
            detail = " (it is being deleted)" if existing.deleted_at is not None else ""
            raise conflict(f"Endpoint '{spec['name']}' already exists{detail}")
        if (namespace, spec["name"]) in self._reserved:
            # Gone from GET and the list, but the service still holds the name for a while.
            raise conflict(f"Endpoint '{spec['name']}' already exists")
        self._check_quota(namespace, compute, spec, now)
        failure = self._faults.take_endpoint("fail_deploy", namespace=namespace, name=spec["name"])
        key = (namespace, spec["name"])
        self._generations[key] = self._generations.get(key, 0) + 1
        rec = Record(
            namespace=namespace,
            name=spec["name"],
            spec=spec,
            created_at=now,
            created_by=by,
            updated_at=now,
            updated_by=by,
            timeline=deploy(now, self._d, failure=failure),
            generation=self._generations[key],
        )
        space[rec.name] = rec
        self._changed(rec, now)
        return rec

    def seed(
        self, namespace: str, specs: Sequence[Spec], *, state: State, by: str, now: float
    ) -> int:
        """Bulk-load endpoints (admin seeding): the records `create` would make, already in
        `state` (`pending` starts the create timeline now). All or nothing: every spec is checked
        (hardware, image, unique and free names, the namespace's quota in total) before any is
        stored; the first failure raises with the index of the spec at fault."""
        self._purge(now)
        space = self._spaces.get(namespace, {})
        seen: set[str] = set()
        need: dict[QuotaKey, int] = {}
        for i, spec in enumerate(specs):
            name = spec["name"]
            try:
                compute = self._compute(spec)
                if not compute.deployable:
                    raise _unavailable(compute)
                check_parallelism(
                    spec["model"]["image"],
                    accelerators=compute.num_accelerators,
                    compute_id=compute.id,
                )
                if name in seen or name in space or (namespace, name) in self._reserved:
                    raise conflict(f"Endpoint '{name}' already exists")
            except ApiError as err:
                raise ApiError(err.status, f"endpoints[{i}]: {err.message}") from err
            seen.add(name)
            if state not in QUOTA_FREE:
                key = compute.quota_key
                need[key] = need.get(key, 0) + _need(compute, spec)
        self._settle_doomed(now)
        for key, amount in need.items():
            used, limit = self._usage.get((namespace, key), 0), self._limit(namespace, key)
            if used + amount > limit:
                raise conflict(
                    f"Quota exceeded for {key[1]} on {key[0]} in namespace '{namespace}': "
                    f"{used} of {limit} accelerators in use, {amount} more requested"
                )
        if state is State.PENDING:
            timeline = deploy(now, self._d)
        else:
            timeline = still(now, state, url=state is not State.PAUSED)
        space = self._spaces.setdefault(namespace, {})
        for spec in specs:
            rec = Record(
                namespace=namespace,
                name=spec["name"],
                spec=with_replicas(spec, 0) if state is State.PAUSED else spec,
                created_at=now,
                created_by=by,
                updated_at=now,
                updated_by=by,
                timeline=list(timeline),
            )
            space[rec.name] = rec
            self._changed(rec, now)
        return len(specs)

    def update(self, namespace: str, name: str, *, patch: Spec, by: str, now: float) -> Record:
        rec = self._live(namespace, name, now=now)
        if rec.state is State.FAILED:
            raise _failed(name, "updated")
        if self._refuse_starting and rec.state in (State.PENDING, State.INITIALIZING):
            # What the service does with an update while a resume (or create) is still
            # starting is unknown: `EmulatorConfig.refuse_updates_while_starting` refuses it.
            raise conflict(
                f"Endpoint {name} is {rec.state.value}: it cannot be updated until it is running"
            )
        dropped = self._faults.take_dropped_field(namespace=namespace, name=name)
        if dropped is not None:
            patch = without(patch, dropped)
        new, redeploy = apply_patch(rec.spec, patch)
        validate(new)
        old_c, new_c = rec.spec["compute"], new["compute"]
        hw_changed = any(
            old_c[k] != new_c[k] for k in ("accelerator", "instanceType", "instanceSize")
        )
        # Hardware is only re-checked when it changes: an endpoint created before its hardware
        # was deprecated can still be updated in other ways.
        compute = self._compute(new, strict=hw_changed)
        if hw_changed and not compute.deployable:
            raise _unavailable(compute)
        if hw_changed or new["model"]["image"] != rec.spec["model"]["image"]:
            check_parallelism(
                new["model"]["image"], accelerators=compute.num_accelerators, compute_id=compute.id
            )
        pausing = new["compute"]["scaling"]["maxReplica"] == 0
        resuming = rec.state is State.PAUSED and not pausing and replica_counts(patch)
        if (rec.state not in QUOTA_FREE and not pausing) or resuming:
            self._check_quota(namespace, compute, new, now, replacing=rec)
        scaled = scaling_line(rec.spec, new)
        if scaled is not None:
            rec.write(now, scaled)
        rec.spec, rec.updated_at, rec.updated_by = new, now, by
        if pausing:
            if rec.state is not State.PAUSED:
                rec.timeline = still(now, State.PAUSED, url=False)
        elif resuming:
            failure = self._faults.take_endpoint("fail_deploy", namespace=namespace, name=name)
            rec.timeline = resume(now, self._d, failure=failure)
        # A PUT on an endpoint whose last update failed retries the deployment even when it
        # sends the same configuration: that is how a client says "try again".
        elif (redeploy or rec.state is State.UPDATE_FAILED) and rec.state in REDEPLOY_STATES:
            failure = self._faults.take_endpoint("fail_update", namespace=namespace, name=name)
            rec.timeline = update(now, self._d, url=rec.current.url, failure=failure)
        self._changed(rec, now)
        return rec

    def delete(self, namespace: str, name: str, *, now: float) -> None:
        rec = self.get(namespace, name, now=now)
        if rec.deleted_at is not None:
            return  # repeated DELETE during the grace period: still a 200
        rec.deleted_at = now
        rec.timeline = [rec.current]  # frozen: nothing more happens to a deleted endpoint
        rec.write(now, "Delete requested: stopping every replica")
        self._changed(rec)
        self._deleted.append(rec)
        self._purge(now)

    def pause(self, namespace: str, name: str, *, by: str, now: float) -> Record:
        rec = self._live(namespace, name, now=now)
        if rec.state is State.FAILED:
            raise _failed(name, "paused")
        if rec.state is not State.PAUSED:
            rec.spec = with_replicas(rec.spec, 0)
            rec.timeline = still(now, State.PAUSED, url=False)
            rec.updated_at, rec.updated_by = now, by
            self._changed(rec)
        return rec

    def resume(self, namespace: str, name: str, *, by: str, now: float) -> Record:
        rec = self._live(namespace, name, now=now)
        state = rec.state
        if state is State.RUNNING:
            # huggingface_hub's `running_ok` looks for "already running" in a 400's text.
            raise bad_request(f"Endpoint '{name}' is already running")
        if state is State.FAILED:
            raise _failed(name, "resumed")
        if state in STARTING:
            return rec  # already on its way to running: nothing to do
        if state is State.SCALED_TO_ZERO:
            rec.timeline = wake(now, self._d)
        else:  # paused, or updateFailed: redeploy the stored config
            if state is State.PAUSED:
                resumed = with_replicas(rec.spec, 1)
                compute = self._compute(resumed, strict=False)
                self._check_quota(namespace, compute, resumed, now)
                rec.spec = resumed
            failure = self._faults.take_endpoint("fail_deploy", namespace=namespace, name=name)
            rec.timeline = resume(now, self._d, failure=failure)
        rec.updated_at, rec.updated_by = now, by
        self._changed(rec, now)
        return rec

    def scale_to_zero(self, namespace: str, name: str, *, by: str, now: float) -> Record:
        rec = self._live(namespace, name, now=now)
        if rec.state is State.FAILED:
            raise _failed(name, "scaled to zero")
        if rec.state is State.PAUSED:
            raise bad_request(f"Endpoint '{name}' is paused: resume it to scale it to zero")
        if rec.state is not State.SCALED_TO_ZERO:
            rec.timeline = still(now, State.SCALED_TO_ZERO, url=True)
            rec.updated_at, rec.updated_by = now, by
            self._changed(rec)
        return rec

    def touch(self, namespace: str, name: str, *, now: float) -> Record:
        """Traffic to the endpoint's URL: resets the idle timer, wakes a scaled-to-zero one."""
        rec = self.get(namespace, name, now=now)
        if rec.deleted_at is not None:
            raise not_found(name)
        rec.last_request_at = now
        if rec.state is State.SCALED_TO_ZERO:
            rec.timeline = wake(now, self._d)
            rec.rev += 1
            rec.settle(now)
        self.version += 1
        return rec

    def reset(self) -> None:
        self._spaces.clear()
        self._usage.clear()
        self._doomed.clear()
        self._deleted.clear()
        self._reserved.clear()
        self._reserved_order.clear()
        self._generations.clear()
        self.version += 1

    def load(self, records: Iterable[Record]) -> None:
        self.reset()
        for rec in records:
            if rec.state is State.PAUSED and rec.spec["compute"]["scaling"]["maxReplica"]:
                # Saved before pausing set the counts to 0 (the official guide): as if paused now.
                rec.spec = with_replicas(rec.spec, 0)
            self._spaces.setdefault(rec.namespace, {})[rec.name] = rec
            key = (rec.namespace, rec.name)
            self._generations[key] = max(self._generations.get(key, 0), rec.generation)
            if rec.deleted_at is not None:
                self._deleted.append(rec)
            self._changed(rec)
        self._deleted = deque(sorted(self._deleted, key=lambda r: r.deleted_at or 0.0))

    # --- internals ----------------------------------------------------------------------------

    def _live(self, namespace: str, name: str, *, now: float) -> Record:
        rec = self.get(namespace, name, now=now)
        if rec.deleted_at is not None:
            raise conflict(f"Endpoint '{name}' is being deleted")
        return rec

    def _settle(self, rec: Record, now: float) -> None:
        if rec.settle(now):
            self._hold(rec)

    def _settle_doomed(self, now: float) -> None:
        for ns, name in list(self._doomed):
            rec = self._spaces.get(ns, {}).get(name)
            if rec is None:
                self._doomed.discard((ns, name))
            else:
                self._settle(rec, now)
                if not rec.pending_failure():
                    self._doomed.discard((ns, name))

    def _changed(self, rec: Record, now: float | None = None) -> None:
        self.version += 1
        rec.rev += 1
        if now is not None:
            rec.settle(now)  # zero-length segments (durations of 0) are already over
        rec.note()  # its log says what the operation began
        self._hold(rec)
        key = (rec.namespace, rec.name)
        if rec.pending_failure():
            self._doomed.add(key)
        else:
            self._doomed.discard(key)

    def _hold(self, rec: Record) -> None:
        """Re-derive what quota `rec` holds from its current state and spec."""
        if rec.held is not None:
            (key, amount) = rec.held
            self._usage[(rec.namespace, key)] -= amount
            rec.held = None
        if rec.deleted_at is None and rec.state not in QUOTA_FREE:
            compute = self._compute(rec.spec, strict=False)
            rec.held = (compute.quota_key, _need(compute, rec.spec))
            ukey = (rec.namespace, compute.quota_key)
            self._usage[ukey] = self._usage.get(ukey, 0) + rec.held[1]

    def _purge(self, now: float) -> None:
        grace = self._d.delete_grace
        while self._deleted and (self._deleted[0].deleted_at or 0.0) + grace <= now:
            rec = self._deleted.popleft()
            space = self._spaces.get(rec.namespace, {})
            if space.get(rec.name) is rec:
                del space[rec.name]
                self.version += 1
                self._reserve(rec)
        while self._reserved_order and self._reserved_order[0][0] <= now:
            until, key = self._reserved_order.popleft()
            if self._reserved.get(key) == until:
                del self._reserved[key]

    def _reserve(self, rec: Record) -> None:
        """Keep a purged endpoint's name refused for `name_reserved` seconds more."""
        if self._d.name_reserved <= 0:
            return
        until = (rec.deleted_at or 0.0) + self._d.delete_grace + self._d.name_reserved
        key = (rec.namespace, rec.name)
        self._reserved[key] = until
        self._reserved_order.append((until, key))

    def _limit(self, namespace: str, key: QuotaKey) -> int:
        vendor, itype = key
        for scope in (namespace, "*"):
            limit = self._quotas.get(scope, {}).get(vendor, {}).get(itype)
            if limit is not None:
                return limit
        return self._hardware.default_quotas.get(key, 0)

    def _check_quota(
        self,
        namespace: str,
        compute: Compute,
        spec: Spec,
        now: float,
        *,
        replacing: Record | None = None,
    ) -> None:
        """409 unless `spec` on `compute` fits, counting what `replacing` holds now as free."""
        self._settle_doomed(now)
        key = compute.quota_key
        used = self._usage.get((namespace, key), 0)
        held = replacing.held if replacing is not None else None
        if held is not None and held[0] == key:
            used -= held[1]
        need = _need(compute, spec)
        limit = self._limit(namespace, key)
        if used + need > limit:
            raise conflict(
                f"Quota exceeded for {key[1]} on {key[0]} in namespace '{namespace}': "
                f"{used} of {limit} accelerators in use, {need} more requested"
            )

    def _compute(self, spec: Spec, *, strict: bool = True) -> Compute:
        c, p = spec["compute"], spec["provider"]
        found = self._hardware.find(
            p["vendor"],
            p["region"],
            accelerator=c["accelerator"],
            instance_type=c["instanceType"],
            instance_size=c["instanceSize"],
        )
        if found is not None:
            return found
        if strict:
            raise bad_request(
                f"Instance compute '{c['accelerator'].capitalize()}' - '{c['instanceType']}' - "
                f"'{c['instanceSize']}' in '{p['vendor']}' - '{p['region']}' not found"
            )
        # A stored endpoint whose hardware left the matrix (e.g. another --config): count it as
        # one accelerator so quota stays meaningful.
        return Compute(
            p["vendor"],
            p["region"],
            c["accelerator"],
            c["instanceType"],
            c["instanceSize"],
            c["instanceType"],
            1,
            None,
            0.0,
            None,
            0.0,
            "not_available",
        )


def _need(compute: Compute, spec: Spec) -> int:
    # Quota unit: accelerators, numAccelerators x maxReplica (a CPU x4 counts 4 per replica).
    return compute.num_accelerators * int(spec["compute"]["scaling"]["maxReplica"])


def _unavailable(compute: Compute) -> ApiError:
    return bad_request(
        f"Compute instance not available yet: '{compute.id}' is {compute.status.replace('_', ' ')}"
    )


def _failed(name: str, verb: str) -> ApiError:
    return bad_request(
        f"Endpoint '{name}' is in failed state and cannot be {verb}: "
        "delete it and create a new endpoint"
    )
