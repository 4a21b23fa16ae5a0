"""`provisioner invoke NAME`: one request to an endpoint's URL, sent as an application sends it
(the body as JSON, the caller's token as a Bearer, `X-Scale-Up-Timeout`), and its answer.

The endpoint is found in the live read (one list of its namespace). What cannot be called is a
`ProvisionerError` before anything is sent: not created, paused (saying how to resume it),
private (PrivateLink only), failed, not running yet. A 503 from an endpoint that was not running
when read (scaled to zero, starting) is a cold start: sent again with backoff until `timeout`
seconds have passed on the injected clock. The answer is cut short and scrubbed (secret values,
token shapes, URL userinfo, control characters) as smoke answers are. Nothing here prints or
reads the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.apply.outputs import read_endpoints
from provisioner.apply.smoke_tests import named_specs
from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError
from provisioner.hub.models import EndpointState, LiveEndpoint
from provisioner.smoke.runner import FIRST_DELAY, MAX_DELAY
from provisioner.spec.diagnostics import ProvisionerError, clip
from provisioner.spec.model import DesiredState, EndpointSpec
from provisioner.spec.scrub import Scrubber

DEFAULT_TIMEOUT = 300.0
ANSWER_LIMIT = 4000
PURPOSE = "invoke"
# States in which a 503 means "a replica is starting", not an answer.
_WAKING = frozenset(
    {
        EndpointState.SCALED_TO_ZERO,
        EndpointState.PENDING,
        EndpointState.INITIALIZING,
        EndpointState.UPDATING,
    }
)


@dataclass(frozen=True)
class Invocation:
    address: str
    url: str
    status: int
    # The answer's body, cut to ANSWER_LIMIT characters, secrets blanked, controls escaped.
    body: str
    attempts: int
    # It was scaled to zero (or starting) when read: the answer came after a cold start.
    woke: bool

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def one_spec(specs: list[EndpointSpec], name: str) -> EndpointSpec:
    """The one spec `name` addresses (a name or NAMESPACE/NAME; a glob must match one)."""
    chosen = named_specs(specs, [name], done="nothing was sent")
    if len(chosen) > 1:
        found = ", ".join(f"{s.namespace}/{s.name}" for s in chosen)
        raise ProvisionerError.because(
            f"{name!r} names {len(chosen)} endpoints ({clip(found, 300)}): invoke calls one; "
            "name it as NAMESPACE/NAME. Nothing was sent"
        )
    return chosen[0]


def _refusal(spec: EndpointSpec, endpoint: LiveEndpoint | None, apply_command: str) -> str | None:
    """Why `endpoint` cannot be called, as a sentence, or None."""
    address = f"{spec.namespace}/{spec.name}"
    if endpoint is None:
        return f"{address} is not created yet: `{apply_command}` creates it"
    if endpoint.config.type == "private":
        return (
            f"{address} is private: it is reachable only through AWS PrivateLink, from inside "
            "the VPC it is linked to, not from here"
        )
    state = endpoint.state
    if state is EndpointState.PAUSED:
        where = spec.source.mark("state")
        if spec.state is DesiredState.PAUSED:
            how = f"set `state: running` in its spec ({where}) and run `{apply_command}`"
        elif spec.schedule is not None:
            how = (
                f"its schedule pauses it now: `{apply_command}` resumes it within one of its "
                "windows"
            )
        else:
            how = f"its spec says running: `{apply_command}` resumes it"
        return f"{address} is paused, and a paused endpoint answers nothing; to resume it, {how}"
    if state in (EndpointState.FAILED, EndpointState.UPDATE_FAILED):
        return f"{address} is {state.value}: `provisioner status` says why"
    if endpoint.url is None:
        return f"{address} is not running yet ({state.value}): it has no URL until it starts"
    return None


def invoke_endpoint(
    spec: EndpointSpec,
    api: EndpointsApi,
    body: Mapping[str, Any],
    *,
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    scrubber: Scrubber,
    apply_command: str = "provisioner apply",
) -> Invocation:
    """POST `body` to the live endpoint of `spec` (its namespace filled in) and return the
    answer, whatever its status; a cold start's 503s are retried within `timeout` seconds."""
    namespace = spec.namespace or ""
    live, _ = read_endpoints(api, [namespace])
    endpoint = live.get(f"{namespace}/{spec.name}")
    why = _refusal(spec, endpoint, apply_command)
    if why is not None or endpoint is None or endpoint.url is None:
        raise ProvisionerError.because(f"{why}. Nothing was sent")
    waking = endpoint.state in _WAKING
    started, delay, attempts = clock(), FIRST_DELAY, 0
    while True:
        try:
            answer = api.post_to_endpoint(endpoint, body, scale_up_timeout=timeout, purpose=PURPOSE)
        except ApiError as error:
            raise ProvisionerError.because(scrubber.outside(str(error))) from error
        attempts += 1
        if answer.status != 503 or not waking or clock() - started + delay > timeout:
            break
        sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
    return Invocation(
        endpoint.address,
        endpoint.url,
        answer.status,
        clip(scrubber.outside(answer.text), ANSWER_LIMIT),
        attempts,
        woke=waking,
    )
