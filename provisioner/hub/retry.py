"""The one place API calls are retried: transient errors only, exponential backoff with full
jitter, `Retry-After` honoured, bounded in attempts and in total time.

Clock, sleep and randomness are injected so tests never wait on real time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from provisioner.hub.errors import ApiError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total: float = 180.0


@dataclass
class Retrier:
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = field(default=lambda _: None)
    clock: Callable[[], float] = field(default=lambda: 0.0)
    rng: random.Random = field(default_factory=random.Random)
    on_retry: Callable[[str, ApiError, float], None] = field(default=lambda *_: None)

    def delay(self, attempt: int, error: ApiError) -> float:
        backoff = min(self.policy.max_delay, self.policy.base_delay * 2**attempt)
        delay = self.rng.uniform(0, backoff)
        if error.retry_after is not None:
            delay = max(delay, min(error.retry_after, self.policy.max_delay))
        return delay

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run `fn`; on a retryable `ApiError`, wait and try again within the policy's bounds."""
        started = self.clock()
        attempt = 0
        while True:
            try:
                return fn()
            except ApiError as error:
                attempt += 1
                limit = min(self.policy.attempts, getattr(error, "attempts", None) or attempt + 1)
                if not error.retryable or attempt >= limit:
                    raise
                delay = self.delay(attempt - 1, error)
                if self.clock() - started + delay > self.policy.max_total:
                    raise
                self.on_retry(what, error, delay)
                self.sleep(delay)
