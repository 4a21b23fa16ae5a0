"""Execute a plan's changes against the API: bounded parallelism, each change's steps in order,
each update read back and verified, and a failure reported per endpoint while the others finish.

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
from dataclasses import dataclass, field

from provisioner.apply.guard import not_ours
from provisioner.apply.results import Outcome, Reporter
from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError, Conflict, NotFound, QuotaExceeded
from provisioner.hub.models import Config, LiveEndpoint, Secrets
from provisioner.plan import ownership
from provisioner.plan.desired import own_env
from provisioner.plan.model import Action, Plan, ResourceChange
from provisioner.spec.fields import FIELDS, Flag
from provisioner.spec.schema import valid_name, valid_namespace

DEFAULT_PARALLELISM = 8
GONE_POLL_SECONDS = 2.0
GONE_TIMEOUT_SECONDS = 600.0
# After a replacement's delete, the service may refuse the name for a while longer (409 "already
# exists" while GET is 404): how long a create waits for it.
NAME_RESERVED_POLL_SECONDS = 10.0
NAME_RESERVED_TIMEOUT_SECONDS = 300.0


class NotStarted(Exception):
    """A change never started because the run was interrupted first."""


class ChangeFailed(Exception):
    """A step of one change failed; the message says which and why."""


def _verify_image(desired: Config, got: Config) -> list[str]:
    # The service may add settings of its own to the image: only what was sent is compared.
    if got.image.variant != desired.image.variant:
        return [f"image is {got.image.variant}, expected {desired.image.variant}"]
    return [
        f"image.{key} is {got.image.fields.get(key)!r}, expected {want!r}"
        for key, want in desired.image.fields.items()
        if got.image.fields.get(key) != want
    ]


def verify(desired: Config, got: Config) -> list[str]:
    """Fields the service did not take as sent: every field the table marks as verified.
    Optional fields the request left unset (revision, task...) may be filled in by the service
    and are not compared."""
    problems = []
    attrs = dict.fromkeys(f.attr for f in FIELDS if Flag.VERIFIED in f.flags)
    for name in attrs:
        if name == "image":
            problems.extend(_verify_image(desired, got))
            continue
        if name == "env" and own_env(desired.env) == desired.env:
            # The service may add its own `HF_TOKEN` to what was sent.
            want, have = desired.env, own_env(got.env)
            if want != have:
                problems.append(f"env is {have!r}, expected {want!r}")
            continue
        want, have = getattr(desired, name), getattr(got, name)
        if want is not None and want != have:
            problems.append(f"{name} is {have!r}, expected {want!r}")
    return problems


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
        self.reporter.finished(outcome)
        return outcome

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
            assert change.desired is not None
            secrets = self.secrets.get(change.address) if change.secrets is not None else None
            got = self.api.update_endpoint(ns, name, change.desired, secrets, fields=change.sends)
            problems = verify(change.desired, got.config)
            if problems:
                raise ChangeFailed(
                    f"update {change.address}: the service accepted it but reports "
                    + "; ".join(problems)
                )
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
            self._create(change)
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
