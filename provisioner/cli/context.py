"""The collaborators every command uses, built once and injectable (tests pass their own).

Environment, API client factory, clock, sleep and terminal detection live here and nowhere
else, so the library below the CLI never reads globals.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from provisioner.spec.scrub import Scrubber, secret_values

if TYPE_CHECKING:
    from provisioner.hub.api import EndpointsApi
    from provisioner.hub.client import Connection
    from provisioner.hub.retry import Retrier


def _hub_api(connection: Connection, retrier: Retrier) -> EndpointsApi:
    # Imported on first use: `validate` and `show` never pay for importing huggingface_hub.
    from provisioner.hub.client import HubApi

    return HubApi(connection, retrier)


def _hostname() -> str:
    import socket  # here: `validate` (a pre-commit hook) never asks who is running

    return socket.gethostname()


@dataclass
class Context:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    api_factory: Callable[[Connection, Retrier], EndpointsApi] = _hub_api
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    # Looked up at call time: sys.stdout/stdin may be swapped after the context is built.
    is_tty: Callable[[], bool] = field(default=lambda: sys.stdout.isatty())  # noqa: PLW0108
    stdin_is_tty: Callable[[], bool] = field(default=lambda: sys.stdin.isatty())  # noqa: PLW0108
    wait_interval: float = 5.0
    # Who and when, for the state lock and the history.
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    hostname: Callable[[], str] = _hostname
    pid: Callable[[], int] = os.getpid
    # The secret values this run has met so far (the specs' `from_env` values, added when a
    # command connects): what it prints on an error and writes to the debug log is scrubbed
    # of them, whatever their variables are named.
    secrets: set[str] = field(default_factory=set)

    def scrubber(self) -> Scrubber:
        """Blanks the values met so far and those of secret-looking environment variables."""
        return Scrubber().with_values(secret_values(self.environ) | self.secrets)
