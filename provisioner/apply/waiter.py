"""Wait until every changed endpoint reaches its target: running with its health route answering
200 (or scaled to zero, when min_replicas 0 allows it), paused, or gone.

One list call per namespace per tick (the namespaces at once), never one GET per endpoint; a
health probe only for endpoints that report running, all of a tick's probes at once. The pause
between ticks adapts: it starts at `MIN_INTERVAL`, grows by half each tick in which nothing
arrived, up to `interval`, and drops back when something does (endpoints made together tend to
arrive together). Fails fast on `failed` / `updateFailed` with the service's message and the
last `LOG_LINES` lines of the endpoint's logs, and on an endpoint deleted under it (gone is
final). Clock and sleep are injected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from provisioner.apply.results import Outcome, Reporter, WaitRow
from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError
from provisioner.hub.live import concurrently
from provisioner.hub.models import EndpointState, LiveEndpoint, Unreadable
from provisioner.plan.model import Action, ResourceChange

DEFAULT_TIMEOUT = 1800.0
# The longest pause between two ticks, and the first one.
DEFAULT_INTERVAL = 5.0
MIN_INTERVAL = 0.5
BACKOFF = 1.5
# How many of a failed endpoint's last log lines its outcome carries.
LOG_LINES = 20

RUNNING, PAUSED, GONE = "running", "paused", "gone"


def target(change: ResourceChange) -> str:
    """Where a change leaves its endpoint: gone, paused, or running."""
    steps = change.steps
    if steps == (Action.DELETE,):
        return GONE
    if Action.PAUSE in steps:
        return PAUSED
    if Action.CREATE in steps or Action.RESUME in steps:
        return RUNNING
    # An update of a paused endpoint is stored and it stays paused: the update carries the
    # live replica counts (`plan.desired.update_config`), never counts >= 1 that would resume it.
    if change.seen.state == EndpointState.PAUSED.value:
        return PAUSED
    return RUNNING


# Health probes in flight at once: each is a GET to an endpoint's own URL, not to the API.
PROBE_PARALLELISM = 16


@dataclass
class _Watch:
    change: ResourceChange
    target: str
    state: str = "unknown"
    done: bool = False
    error: str | None = None
    # It failed to deploy or update: its logs say why.
    failed: bool = False


def watch_key(watch: _Watch) -> tuple[str, str]:
    return (watch.change.namespace, watch.change.name)


@dataclass
class Waiter:
    api: EndpointsApi
    reporter: Reporter
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    timeout: float = DEFAULT_TIMEOUT
    interval: float = DEFAULT_INTERVAL
    # What a suggested command repeats to pick this stack and API (`--dir D --api-url U`).
    command_options: str = ""

    def command(self, verb: str) -> str:
        return f"provisioner {verb} {self.command_options}".rstrip()

    def wait(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Outcomes after waiting: a change that succeeded but never reached its target fails."""
        watches = {o.change.address: _Watch(o.change, target(o.change)) for o in outcomes if o.ok}
        started = self.clock()
        namespaces = sorted({w.change.namespace for w in watches.values()})
        pause = min(MIN_INTERVAL, self.interval)
        while watches and not all(w.done for w in watches.values()):
            finished = sum(w.done for w in watches.values())
            try:
                live = self._list(namespaces)
            except ApiError as error:
                for pending in watches.values():
                    if not pending.done:
                        pending.done, pending.error = True, f"waiting stopped: {error}"
                break
            probes: list[tuple[_Watch, LiveEndpoint]] = []
            for watch in watches.values():
                if not watch.done:
                    running = self._check(watch, live.get(watch_key(watch)))
                    if running is not None:
                        probes.append((watch, running))
            self._probe(probes)
            elapsed = self.clock() - started
            self.reporter.waiting(
                [
                    WaitRow(a, w.target, w.state, elapsed, w.done, w.error is not None, w.error)
                    for a, w in sorted(watches.items())
                ]
            )
            if all(w.done for w in watches.values()):
                break
            if elapsed >= self.timeout:
                for watch in watches.values():
                    if not watch.done:
                        watch.done = True
                        watch.error = (
                            f"{watch.change.address} did not become {watch.target} within "
                            f"{self.timeout:.0f}s (last state: {watch.state}); it may still get "
                            f"there: check `{self.command('status')}` or raise --timeout"
                        )
                break
            if sum(w.done for w in watches.values()) > finished:
                pause = min(MIN_INTERVAL, self.interval)  # some arrived: the rest may be close
            self.sleep(pause)
            pause = min(pause * BACKOFF, self.interval)
        logs = self._last_lines([w for w in watches.values() if w.failed])
        results = []
        for outcome in outcomes:
            watched = watches.get(outcome.change.address)
            if watched is not None and watched.error is not None:
                # Accepted, and still there (a deleted one is not left behind).
                exists = watched.state != "gone"
                results.append(
                    Outcome(
                        outcome.change,
                        ok=False,
                        error=watched.error,
                        accepted=exists,
                        logs=logs.get(outcome.change.address, ()),
                    )
                )
            else:
                results.append(outcome)
        return results

    def _last_lines(self, failed: list[_Watch]) -> dict[str, tuple[str, ...]]:
        """The last lines of each failed endpoint's logs, by address, read at once; none, and a
        warning, for one whose logs cannot be read (its failure is reported all the same)."""
        reads = concurrently(
            {
                w.change.address: partial(
                    self.api.endpoint_logs, w.change.namespace, w.change.name, tail=LOG_LINES
                )
                for w in failed
            },
            limit=PROBE_PARALLELISM,
        )
        found: dict[str, tuple[str, ...]] = {}
        for address, read in reads.items():
            try:
                found[address] = tuple(read.result()[-LOG_LINES:])
            except ApiError as error:
                self.reporter.warn(f"{address}: its logs could not be read: {error}")
        return found

    def _list(self, namespaces: list[str]) -> dict[tuple[str, str], LiveEndpoint | Unreadable]:
        found: dict[tuple[str, str], LiveEndpoint | Unreadable] = {}
        listings = concurrently({ns: partial(self.api.list_endpoints, ns) for ns in namespaces})
        for namespace in namespaces:
            listing = listings[namespace].result()
            # Listed but unreadable is not gone: wait on (a delete is not done yet either).
            found.update({(namespace, u.name): u for u in listing.unreadable if u.name})
            found.update({(e.namespace, e.name): e for e in listing.endpoints})
        return found

    def _probe(self, probes: list[tuple[_Watch, LiveEndpoint]]) -> None:
        """Health probes of the endpoints that report running, at once: one slow container must
        not hold up the news of the others."""
        codes = concurrently(
            {watch.change.address: partial(self.api.health, ep) for watch, ep in probes},
            limit=PROBE_PARALLELISM,
        )
        for watch, _ in probes:
            try:
                code = codes[watch.change.address].result()
            except ApiError as error:  # a URL the token may not go to: final, said once
                watch.state, watch.done, watch.error = "running, not probed", True, str(error)
                continue
            watch.done = code == 200
            if not watch.done:
                watch.state = f"running, health {code or 'unreachable'}"

    def _check(
        self, watch: _Watch, endpoint: LiveEndpoint | Unreadable | None
    ) -> LiveEndpoint | None:
        """Update `watch` from the listed `endpoint`; the endpoint when only its health route
        can tell whether it is ready."""
        address = watch.change.address
        if isinstance(endpoint, Unreadable):
            watch.state = f"unreadable ({endpoint.problem})"
            return None
        if endpoint is None:
            # Gone is final: nothing brings a deleted endpoint back, so waiting out the timeout
            # for someone else's delete would only end in "it may still get there".
            watch.state, watch.done = "gone", True
            if watch.target != GONE:
                watch.error = (
                    f"{address} was deleted while waiting for it to become {watch.target} "
                    f"(by someone or something else): it is gone; run `{self.command('plan')}` "
                    "to see what it would take to create it again"
                )
            return None
        state = endpoint.state
        watch.state = state.value
        if watch.target == GONE:
            return None
        if state is EndpointState.FAILED:
            watch.done = watch.failed = True
            watch.error = f"{address} failed to deploy: {endpoint.message or 'no message'}"
        elif state is EndpointState.UPDATE_FAILED:
            watch.done = watch.failed = True
            watch.error = f"{address} failed to update: {endpoint.message or 'no message'}"
        elif watch.target == PAUSED:
            watch.done = state is EndpointState.PAUSED
        elif state is EndpointState.SCALED_TO_ZERO and endpoint.config.min_replica == 0:
            watch.done = True
        elif state is EndpointState.RUNNING:
            if endpoint.config.type == "private":
                watch.done = True  # reachable only through PrivateLink: nothing to probe
            else:
                return endpoint
        return None
