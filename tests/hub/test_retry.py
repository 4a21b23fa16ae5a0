"""The one retry policy: transient errors only, bounded, Retry-After honoured."""

from __future__ import annotations

import random

import pytest

from provisioner.hub.errors import BadRequest, Transient, classify, scrub
from provisioner.hub.retry import Retrier, RetryPolicy


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def flaky(failures: list[Exception]):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    def call() -> str:
        calls["n"] += 1
        if failures:
            raise failures.pop(0)
        return "ok"

    return call, calls


def test_transient_errors_are_retried_then_succeed() -> None:
    time = FakeTime()
    retrier = Retrier(sleep=time.sleep, clock=time.clock, rng=random.Random(1))
    call, calls = flaky([Transient("503", status=503), Transient("500", status=500)])
    assert retrier.call("list", call) == "ok"
    assert calls["n"] == 3
    assert len(time.sleeps) == 2


def test_retry_after_is_honoured() -> None:
    time = FakeTime()
    retrier = Retrier(sleep=time.sleep, clock=time.clock, rng=random.Random(1))
    call, _ = flaky([Transient("429", status=429, retry_after=7.0)])
    retrier.call("list", call)
    assert time.sleeps == [7.0]


def test_non_transient_errors_are_not_retried() -> None:
    time = FakeTime()
    retrier = Retrier(sleep=time.sleep, clock=time.clock)
    call, calls = flaky([BadRequest("bad", status=400)])
    with pytest.raises(BadRequest):
        retrier.call("create", call)
    assert calls["n"] == 1 and time.sleeps == []


def test_attempts_are_bounded() -> None:
    time = FakeTime()
    retrier = Retrier(RetryPolicy(attempts=3), sleep=time.sleep, clock=time.clock)
    call, calls = flaky([Transient("503", status=503) for _ in range(10)])
    with pytest.raises(Transient):
        retrier.call("list", call)
    assert calls["n"] == 3


def test_total_time_is_bounded() -> None:
    time = FakeTime()
    policy = RetryPolicy(attempts=100, max_total=20)
    retrier = Retrier(policy, sleep=time.sleep, clock=time.clock)
    call, _ = flaky([Transient("429", status=429, retry_after=15) for _ in range(10)])
    with pytest.raises(Transient):
        retrier.call("list", call)
    assert sum(time.sleeps) <= 20


def test_backoff_grows_and_is_capped() -> None:
    retrier = Retrier(RetryPolicy(base_delay=1, max_delay=8), rng=random.Random(0))
    error = Transient("503", status=503)
    delays = [max(retrier.delay(a, error) for _ in range(200)) for a in range(6)]
    assert delays[0] <= 1 and delays[2] <= 4 and max(delays) <= 8
    assert delays[3] > delays[0]


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (404, "Endpoint 'x' not found", "NotFound"),
        (409, "Conflict: Quota exceeded", "QuotaExceeded"),
        (409, "Conflict: already exists", "Conflict"),
        (400, "Bad Request", "BadRequest"),
        (422, "Failed to deserialize", "BadRequest"),
        (401, "Unauthorized", "AuthError"),
        (403, "Forbidden", "AuthError"),
        (429, "Too Many Requests", "Transient"),
        (503, "Service Unavailable", "Transient"),
    ],
)
def test_status_codes_map_to_our_error_tree(status: int, message: str, kind: str) -> None:
    error = classify(status, message)
    assert type(error).__name__ == kind
    assert error.retryable == (kind == "Transient")


def test_scrub_blanks_tokens_and_truncates() -> None:
    text = scrub("denied for hf_abcdefghijklmnop " + "x" * 1000)
    assert "hf_abcdefghijklmnop" not in text
    assert "hf_***" in text
    # "denied for hf_*** " and 1,000 x: 1,018 characters, of which 500 are shown.
    assert text == "denied for hf_*** " + "x" * 482 + "… [518 more characters cut]"
