"""Execute a plan's changes against the API: bounded parallelism, each change's steps in order,
each create and update read back (a value the service did not keep is noted on the outcome,
`plan.readback`), and a failure reported per endpoint while the others finish.

Re-running converges: a create that met a transient error and then "already exists" is
recognised as ours, a delete of something already gone succeeds. A replacement whose name the
service still reserves after the delete retries its create for a while, and a replacement that
cannot create says the old endpoint is gone and apply again will create the new one.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from provisioner.apply.guard import not_ours
from provisioner.apply.results import Outcome, Reporter
from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError, Conflict, NotFound, QuotaExceeded
from provisioner.hub.models import Config, EndpointState, LiveEndpoint, Secrets
from provisioner.plan import ownership
from provisioner.plan.model import Action, FieldChange, Plan, ResourceChange
from provisioner.plan.readback import kept, not_kept
from provisioner.spec.schema import valid_name, valid_namespace

DEFAULT_PARALLELISM = 8
GONE_POLL_SECONDS = 2.0
GONE_TIMEOUT_SECONDS = 600.0
# After a replacement's delete, the service may refuse the name for a while longer (409 "already
# exists" while GET is 404): how long a create waits for it.
NAME_RESERVED_POLL_SECONDS = 10.0
NAME_RESERVED_TIMEOUT_SECONDS = 300.0
# An update right after a resume: whether the service takes it while the endpoint starts is
# unknown. It is sent at once; refused (409) while the endpoint starts, it is sent again once
# the endpoint runs, waiting this long at most.
STARTING = frozenset({EndpointState.PENDING, EndpointState.INITIALIZING})
STARTING_POLL_SECONDS = 5.0
STARTING_TIMEOUT_SECONDS = 900.0


class NotStarted(Exception):
    """A change never started because the run was interrupted first."""


class ChangeFailed(Exception):
    """A step of one change failed; the message says which and why."""


@dataclass
class Executor:
    api: EndpointsApi
    stack: str
    secrets: Mapping[str, Secrets]
    reporter: Reporter
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    parallelism: int = DEFAULT_PARALLELISM
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    # What each change's answers did not keep of what was sent, by address (`_read_back`).
    _unkept: dict[str, tuple[list[FieldChange], Config]] = field(
        default_factory=dict, init=False, repr=False
    )

    def run(self, plan: Plan) -> list[Outcome]:
        """Deletes first, then everything else: the plan's quota check counts what a delete
        frees for the creates and updates of the same plan (`plan.quota`)."""
        changes = plan.actionable
        if not changes:
            return []
        deletes = [c for c in changes if c.action is Action.DELETE]
        others = [c for c in changes if c.action is not Action.DELETE]
        outcomes: dict[str, Outcome] = {}
        pool = ThreadPoolExecutor(max_workers=max(1, min(self.parallelism, len(changes))))
        try:
            for batch in (deletes, others):
                futures = [pool.submit(self._execute, change) for change in batch]
                outcomes.update((f.result().change.address, f.result()) for f in futures)
        except BaseException:
            # An interrupt (Ctrl-C, SIGTERM), as Terraform: what has not started is never
            # started, what is in flight finishes (its request cannot be taken back anyway).
            self._stop.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [outcomes[c.address] for c in changes]

    def _execute(self, change: ResourceChange) -> Outcome:
        if self._stop.is_set():
            raise NotStarted(change.address)
        try:
            gone = self._check_address(change)
            for step in change.steps:
                if gone and step is Action.DELETE:
                    continue  # already gone: the goal is met, and nothing is addressed
                self.reporter.step(change, step)
                self._step(change, step)
        except (ApiError, ChangeFailed) as error:
            outcome = Outcome(change, ok=False, error=str(error))
        except BaseException:
            self._stop.set()  # interrupted in this worker: no other change may start
            raise
        else:
            outcome = Outcome(change, ok=True)
            if change.address in self._unkept:
                fields, config = self._unkept[change.address]
                outcome = replace(outcome, not_kept=tuple(fields), kept=config)
        self.reporter.finished(outcome)
        return outcome

    def _read_back(self, change: ResourceChange, got: LiveEndpoint) -> None:
        """Compare the service's answer with what was sent: a value it did not keep is noted
        for the outcome (reported, recorded, not sent again), never sent again now."""
        assert change.desired is not None
        fields, attrs = not_kept(change.desired, got.config)
        if fields:
            self._unkept[change.address] = (fields, kept(change.desired, got.config, attrs))
        else:
            self._unkept.pop(change.address, None)

    def _check_address(self, change: ResourceChange) -> bool:
        """Refuse a change whose namespace or name fails the spec's rules (a saved plan can say
        anything); then, for an endpoint that existed, read it again under exactly that name
        and refuse unless it is this stack's to change. The listing the plan came from may
        have lied (a name listed twice, tags on another item); this read is of the endpoint
        the next request addresses. True when a change that starts with a delete finds the
        endpoint gone already."""
        if not valid_namespace(change.namespace) or not valid_name(change.name):
            raise ChangeFailed(
                f"{change.namespace}/{change.name!r}: refused: not a valid namespace and "
                "endpoint name; nothing was sent"
            )
        if not change.seen.exists or not change.steps or change.steps[0] is Action.CREATE:
            return False
        try:
            now = self.api.get_endpoint(change.namespace, change.name)
        except NotFound:
            if change.steps[0] is Action.DELETE:
                return True  # a replace then creates
            raise
        problem = not_ours(change, now.config.tags, self.stack)
        if problem is not None:
            raise ChangeFailed(f"{change.address} {problem}; nothing was sent")
        return False

    def _step(self, change: ResourceChange, step: Action) -> None:
        ns, name = change.namespace, change.name
        if step is Action.CREATE:
            self._create_step(change)
        elif step is Action.UPDATE:
            self._read_back(change, self._update(change))
        elif step is Action.PAUSE:
            self.api.pause(ns, name)
        elif step is Action.RESUME:
            self.api.resume(ns, name)
        elif step is Action.DELETE:
            with contextlib.suppress(NotFound):  # already gone: the goal is met
                self.api.delete_endpoint(ns, name)
            if change.action is Action.REPLACE:
                self._wait_gone(change)
        else:  # pragma: no cover - the planner emits no other step
            raise ChangeFailed(f"unknown step {step}")

    def _update(self, change: ResourceChange) -> LiveEndpoint:
        """The update's PUT; after a resume, sent again once the endpoint runs if the service
        refuses it (409) while the endpoint is still starting."""
        assert change.desired is not None
        secrets = self.secrets.get(change.address) if change.secrets is not None else None
        started = self.clock()
        while True:
            try:
                return self.api.update_endpoint(
                    change.namespace, change.name, change.desired, secrets, fields=change.sends
                )
            except QuotaExceeded:
                raise
            except Conflict as error:
                if Action.RESUME not in change.steps:
                    raise
                state = self.api.get_endpoint(change.namespace, change.name).state
                if state not in STARTING:
                    raise
                if self.clock() - started >= STARTING_TIMEOUT_SECONDS:
                    raise ChangeFailed(
                        f"update {change.address}: the resume was accepted, but the update was "
                        f"refused while the endpoint started ({error}) and it was still "
                        f"{state} after {STARTING_TIMEOUT_SECONDS:.0f}s; run apply again once "
                        "it runs"
                    ) from error
            self.sleep(STARTING_POLL_SECONDS)

    def _create(self, change: ResourceChange) -> LiveEndpoint:
        assert change.desired is not None
        secrets = self.secrets.get(change.address, Secrets({}))
        started = self.clock()
        while True:
            try:
                return self.api.create_endpoint(
                    change.namespace, change.name, change.desired, secrets
                )
            except Conflict as error:
                existing = self._existing(change, error)
                if existing is not None:
                    return existing
                if not self._name_reserved(change, error):
                    raise
                if self.clock() - started >= NAME_RESERVED_TIMEOUT_SECONDS:
                    raise ChangeFailed(
                        f"{error}; the service still refused the name "
                        f"{NAME_RESERVED_TIMEOUT_SECONDS:.0f}s after the old endpoint was gone"
                    ) from error
            self.sleep(NAME_RESERVED_POLL_SECONDS)

    def _create_step(self, change: ResourceChange) -> None:
        try:
            self._read_back(change, self._create(change))
        except (ApiError, ChangeFailed) as error:
            if change.action is not Action.REPLACE:
                raise
            # The user now has neither endpoint: say so, and what brings the new one.
            raise ChangeFailed(
                f"replace {change.address}: the old endpoint was deleted but the new one was "
                f"not created ({error}); run apply again to create it"
            ) from error

    def _existing(self, change: ResourceChange, error: Conflict) -> LiveEndpoint | None:
        """After a 409: the endpoint, if it exists and is ours (a create retried after a
        transient failure may have succeeded the first time); None if there is none; else
        `error` again."""
        assert change.desired is not None
        try:
            existing = self.api.get_endpoint(change.namespace, change.name)
        except NotFound:
            return None
        except ApiError:
            raise error from None
        applied = ownership.applied_digest(change.desired.tags)
        tags = existing.config.tags
        if ownership.owner(tags) == self.stack and ownership.applied_digest(tags) == applied:
            return existing
        raise error

    @staticmethod
    def _name_reserved(change: ResourceChange, error: Conflict) -> bool:
        """A replacement's create refused as "already exists" while GET finds nothing: the
        service keeps a deleted name reserved for a while after it disappears."""
        return (
            change.action is Action.REPLACE
            and not isinstance(error, QuotaExceeded)
            and "already exists" in error.message.lower()
        )

    def _wait_gone(self, change: ResourceChange) -> None:
        """A replacement must wait for the old endpoint to disappear: names are unique."""
        started = self.clock()
        while True:
            try:
                self.api.get_endpoint(change.namespace, change.name)
            except NotFound:
                return
            if self.clock() - started > GONE_TIMEOUT_SECONDS:
                raise ChangeFailed(
                    f"replace {change.address}: the old endpoint was still there after "
                    f"{GONE_TIMEOUT_SECONDS:.0f}s; nothing was created, run apply again"
                )
            self.sleep(GONE_POLL_SECONDS)
