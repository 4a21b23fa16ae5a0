"""Run one endpoint's smoke test against its live URL, and say how it went.

A 503 is a cold start (a replica is starting, e.g. after scale-to-zero), not a failure: the
request is sent again with backoff until the test's `timeout` is spent, then it fails with "did
not wake within Ns". Every request also carries `X-Scale-Up-Timeout` (the service then holds it
while a replica starts). Private endpoints (only reachable through PrivateLink) and paused ones
are reported as not run, never silently skipped. A result's body is cut short, and the token,
the given secret values and anything token-shaped are blanked out of it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError
from provisioner.hub.models import EndpointState, LiveEndpoint
from provisioner.smoke.check import check
from provisioner.spec.diagnostics import clip
from provisioner.spec.scrub import Scrubber
from provisioner.spec.smoke import SmokeSpec

BODY_LIMIT = 300
FIRST_DELAY = 1.0
MAX_DELAY = 30.0


class Verdict(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not run"


@dataclass(frozen=True)
class SmokeResult:
    address: str
    verdict: Verdict
    # Why it failed or was not run; for a pass, a note ("woken from a cold start") or empty.
    detail: str = ""
    status: int | None = None
    # The answer's body, cut to BODY_LIMIT characters, secrets blanked; kept for a failure.
    body: str | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.verdict is not Verdict.FAILED


def hide(text: str, scrubber: Scrubber) -> str:
    """`text` (the endpoint's words) with every secret the scrubber knows or recognises blanked
    (current values, previous ones by their fingerprints, token shapes, URL userinfo) and its
    control characters escaped."""
    return scrubber.outside(text)


def not_run_reason(endpoint: LiveEndpoint) -> str | None:
    if endpoint.config.type == "private":
        return "private endpoint (only reachable through AWS PrivateLink)"
    if endpoint.state is EndpointState.PAUSED:
        return "paused"
    return None


def run_smoke(
    api: EndpointsApi,
    endpoint: LiveEndpoint,
    smoke: SmokeSpec,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    secrets: Scrubber | None = None,
) -> SmokeResult:
    """Send `smoke.request` to `endpoint` and check the answer; 503s are retried (a cold start)
    until `smoke.timeout` seconds have passed on `clock`."""
    address = endpoint.address
    secrets = secrets or Scrubber()
    reason = not_run_reason(endpoint)
    if reason is not None:
        return SmokeResult(address, Verdict.NOT_RUN, reason)
    if endpoint.state in (EndpointState.FAILED, EndpointState.UPDATE_FAILED):
        message = f": {hide(endpoint.message, secrets)}" if endpoint.message else ""
        return SmokeResult(address, Verdict.FAILED, f"the endpoint is {endpoint.state}{message}")
    if endpoint.url is None:
        return SmokeResult(
            address, Verdict.FAILED, f"the endpoint has no URL yet (it is {endpoint.state})"
        )
    started, delay, attempts = clock(), FIRST_DELAY, 0
    while True:
        try:
            answer = api.post_to_endpoint(endpoint, smoke.request, scale_up_timeout=smoke.timeout)
        except ApiError as error:
            return SmokeResult(
                address, Verdict.FAILED, hide(str(error), secrets), attempts=attempts
            )
        attempts += 1
        if answer.status != 503 or smoke.expect.status == 503:
            break
        if clock() - started + delay > smoke.timeout:
            return SmokeResult(
                address,
                Verdict.FAILED,
                f"did not wake within {smoke.timeout:g}s: still 503 after {attempts} "
                f"request{'s' if attempts > 1 else ''}",
                status=answer.status,
                body=clip(hide(answer.text, secrets), BODY_LIMIT),
                attempts=attempts,
            )
        sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
    problems = check(smoke.expect, answer.status, answer.text)
    if not problems:
        woke = endpoint.state is EndpointState.SCALED_TO_ZERO or attempts > 1
        note = "woken from a cold start" if woke else ""
        return SmokeResult(address, Verdict.PASSED, note, status=answer.status, attempts=attempts)
    return SmokeResult(
        address,
        Verdict.FAILED,
        hide("; ".join(problems), secrets),
        status=answer.status,
        body=clip(hide(answer.text, secrets), BODY_LIMIT),
        attempts=attempts,
    )
