"""`provisioner logs` as a workflow: which endpoint NAME means, its replica log lines read once,
and following them (polling) until the endpoint settles or a timeout, never without end.

Every line goes through the caller's scrubber before it is handed on: a log line is text from
outside and may quote anything the container saw (its env, its secrets, a token). The line
itself is never parsed: new lines are told from old by where the last lines handed on appear
in the next answer. Clock, sleep and the wall clock are injected; nothing here prints.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import NotFound
from provisioner.hub.models import EndpointState, Identity
from provisioner.spec.diagnostics import ProvisionerError, clip, shown
from provisioner.spec.scrub import Scrubber
from provisioner.spec.secrets import looks_secret
from provisioner.spec.stack import Stack

# How long `--follow` goes on at most unless told otherwise: as long as apply waits by default.
DEFAULT_FOLLOW_TIMEOUT = 1800.0
# Once the endpoint has settled, following stops after this long without a new line.
QUIET_SECONDS = 30.0
# Each poll asks again from this long before the previous one: a client clock a little ahead
# of the service's loses no line (the lines seen already are recognised and skipped).
SKEW_SECONDS = 60
# How many of the lines handed on are remembered to recognise them in the next answer.
REMEMBERED = 2000
# A line handed on is cut to this many characters (after scrubbing, saying how many more).
LINE_CHARS = 4000

# States in which nothing more happens on its own: following may stop once the logs are quiet.
SETTLED = frozenset(
    {
        EndpointState.RUNNING,
        EndpointState.FAILED,
        EndpointState.UPDATE_FAILED,
        EndpointState.PAUSED,
        EndpointState.SCALED_TO_ZERO,
    }
)


def resolve(stack: Stack, identity: Identity, name: str) -> tuple[str, str]:
    """The (namespace, name) NAME means: the stack's spec of that name (or NAMESPACE/NAME);
    else, with a namespace, that endpoint (one no spec declares any more may still be live);
    a bare name no spec has is looked for in the stack's default namespace."""
    specs = stack.resolved_specs(identity.user)
    matches = [
        (s.namespace or "", s.name) for s in specs if name in (s.name, f"{s.namespace}/{s.name}")
    ]
    if len(matches) > 1:
        found = ", ".join(f"{ns}/{n}" for ns, n in matches)
        raise ProvisionerError.because(
            f"{shown(name)} names {len(matches)} specs of this stack ({found}): give NAMESPACE/NAME"
        )
    if matches:
        return matches[0]
    namespace, _, rest = name.rpartition("/")
    return (namespace or stack.default_namespace(identity.user), rest)


def log_scrubber(
    stack: Stack, identity: Identity, environ: Mapping[str, str], base: Scrubber
) -> Scrubber:
    """`base` (the run's secrets, previous values by fingerprint) and the specs' secret values
    and secret-looking env values: a container may print its environment."""
    values = []
    for spec in stack.resolved_specs(identity.user):
        values += [environ.get(ref.from_env, "") for ref in (spec.model.secrets or {}).values()]
        values += [v for k, v in (spec.model.env or {}).items() if looks_secret(k, v)]
    return base.with_values(v for v in values if v)


def fresh(seen: Sequence[str], batch: Sequence[str]) -> list[str]:
    """The lines of `batch` after the last place where the lines `seen` end (as many of them
    as `batch` holds before that place); all of `batch` when they appear nowhere."""
    known, lines = list(seen), list(batch)
    if not known:
        return lines
    for end in range(len(lines), 0, -1):
        count = min(end, len(known))
        if lines[end - count : end] == known[len(known) - count :]:
            return lines[end:]
    return lines


@dataclass(frozen=True, kw_only=True)
class Following:
    """How `--follow` polls: every `interval` seconds, for at most `timeout` seconds, stopping
    earlier once the endpoint settled and `quiet` seconds passed without a new line."""

    interval: float
    timeout: float = DEFAULT_FOLLOW_TIMEOUT
    quiet: float = QUIET_SECONDS


@dataclass
class LogReader:
    """One endpoint's logs, each line scrubbed before `emit` gets it."""

    api: EndpointsApi
    namespace: str
    name: str
    scrubber: Scrubber
    emit: Callable[[str], None]
    # The wall clock (the service's `from` is Unix seconds), and the run's clock and sleep.
    now: Callable[[], datetime]
    clock: Callable[[], float]
    sleep: Callable[[float], None]

    @property
    def address(self) -> str:
        return f"{self.namespace}/{self.name}"

    def _hand_on(self, lines: Sequence[str], seen: deque[str]) -> None:
        for line in lines:
            seen.append(line)
            self.emit(clip(self.scrubber.outside(line), LINE_CHARS))

    def show(self, *, tail: int | None, since: int | None) -> int:
        """Hand on the lines asked for once; how many there were. An endpoint that does not
        exist is a `ProvisionerError`."""
        try:
            lines = self.api.endpoint_logs(self.namespace, self.name, tail=tail, since=since)
        except NotFound as error:
            raise self._missing() from error
        self._hand_on(lines, deque(maxlen=REMEMBERED))
        return len(lines)

    def follow(self, *, tail: int | None, since: int | None, following: Following) -> str:
        """Hand on the lines asked for, then each new one as it comes, until the endpoint is
        gone, or settled with `following.quiet` seconds without a new line, or
        `following.timeout` seconds passed. Returns why it stopped."""
        seen: deque[str] = deque(maxlen=REMEMBERED)
        mark = self._second()
        try:
            first = self.api.endpoint_logs(self.namespace, self.name, tail=tail, since=since)
        except NotFound as error:
            raise self._missing() from error
        self._hand_on(first, seen)
        started = last_new = self.clock()
        while True:
            waited = self.clock() - started
            if waited >= following.timeout:
                return (
                    f"stopped following {self.address} after {following.timeout:.0f} s "
                    "(--follow-timeout)"
                )
            self.sleep(min(following.interval, following.timeout - waited))
            asked_from, mark = max(0, mark - SKEW_SECONDS), self._second()
            if since is not None:
                asked_from = max(asked_from, since)
            try:
                batch = self.api.endpoint_logs(self.namespace, self.name, since=asked_from)
                state = self.api.get_endpoint(self.namespace, self.name).state
            except NotFound:
                return f"stopped following {self.address}: it is gone"
            new = fresh(seen, batch)
            if new:
                self._hand_on(new, seen)
                last_new = self.clock()
            quiet = self.clock() - last_new
            if state in SETTLED and quiet >= following.quiet:
                return (
                    f"stopped following {self.address}: it is {state.value} and nothing new "
                    f"came for {quiet:.0f} s"
                )

    def _second(self) -> int:
        return int(self.now().timestamp())

    def _missing(self) -> ProvisionerError:
        return ProvisionerError.because(
            f"{clip(self.address, 100)}: no such endpoint (the service answered 404); "
            "`provisioner status` lists the stack's endpoints"
        )
