"""What the contract tests run against: the in-process emulator, or the real service.

Both are driven the same way, through the real `huggingface_hub` client (`HfApi`), plus raw
requests through the client's own HTTP session where a test must see the response as sent
(a list response's cursor). A test never knows which one it has, except to word what it saw.

The live target is opt-in (`PROVISIONER_LIVE=1`, `HF_TOKEN`, `PROVISIONER_LIVE_NAMESPACE`) and
runs on a small budget: the cheapest deployable CPU hardware, endpoint names starting with
`prov-acc-<random>-`, at most `PROVISIONER_LIVE_MAX_ENDPOINTS` (default 3) of them at a time, and
no new endpoint nor wait once `PROVISIONER_LIVE_MAX_MINUTES` (default 20) have passed. Every
endpoint is paused at once unless the test needs it running, and deleted in a `finally`; the
session ends with a sweep of anything left with the run's prefix.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from huggingface_hub import HfApi, InferenceEndpoint, constants
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import build_hf_headers, get_session

from provisioner.emulator import Emulator

EMULATOR = "emulator"
LIVE = "live"

LIVE_VARIABLES = ("PROVISIONER_LIVE", "HF_TOKEN", "PROVISIONER_LIVE_NAMESPACE")
OPT_IN = (
    "live acceptance is opt-in: set PROVISIONER_LIVE=1, HF_TOKEN (a token allowed to manage "
    "Inference Endpoints) and PROVISIONER_LIVE_NAMESPACE (where test endpoints may be created) "
    "and run `make acceptance`"
)


def live_refusal(environ: dict[str, str]) -> str | None:
    """Why the live target cannot run (None: it can)."""
    missing = [name for name in LIVE_VARIABLES if not environ.get(name, "").strip()]
    if environ.get("PROVISIONER_LIVE", "").strip() not in ("", "1"):
        return f"PROVISIONER_LIVE must be 1; {OPT_IN}"
    if missing:
        return f"not set: {', '.join(missing)}; {OPT_IN}"
    return None


@dataclass
class Budget:
    """How much of the real service a run may use; refuses beyond it (`pytest.skip`)."""

    max_endpoints: int = 3
    max_minutes: float = 20.0
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> Budget:
        try:
            endpoints = int(environ.get("PROVISIONER_LIVE_MAX_ENDPOINTS", "3"))
            minutes = float(environ.get("PROVISIONER_LIVE_MAX_MINUTES", "20"))
        except ValueError as error:
            raise pytest.UsageError(f"live budget: {error}") from None
        if endpoints < 1 or minutes <= 0:
            raise pytest.UsageError("live budget: the maximum endpoints and minutes must be > 0")
        return cls(endpoints, minutes)

    def remaining(self) -> float:
        return self.max_minutes * 60 - (time.monotonic() - self.started)

    def admit(self, alive: int) -> None:
        if self.remaining() <= 0:
            pytest.skip(f"live budget spent: {self.max_minutes:g} minutes")
        if alive >= self.max_endpoints:
            pytest.skip(f"live budget: already {alive} endpoints (at most {self.max_endpoints})")


@dataclass
class Hardware:
    vendor: str
    region: str
    accelerator: str
    instance_type: str
    instance_size: str
    bigger_size: str | None  # the next size of the same type, for an in-place hardware update


def cheapest_cpu(api: HfApi, namespace: str) -> Hardware:
    rows = [
        r
        for r in api.list_inference_endpoints_hardware(namespace=namespace)
        if r.accelerator == "cpu" and r.status in ("available", "low_availability")
    ]
    if not rows:
        pytest.fail(f"no deployable CPU hardware offered to {namespace}")
    best = min(rows, key=lambda r: (r.price_per_hour, r.vendor, r.region, r.instance_type))
    sizes = sorted(
        (
            r
            for r in rows
            if (r.vendor, r.region, r.instance_type)
            == (best.vendor, best.region, best.instance_type)
            and r.price_per_hour > best.price_per_hour
        ),
        key=lambda r: r.price_per_hour,
    )
    return Hardware(
        best.vendor,
        best.region,
        best.accelerator,
        best.instance_type,
        best.instance_size,
        sizes[0].instance_size if sizes else None,
    )


@dataclass
class Target:
    """One world the contract holds in. `kind` is `emulator` or `live`."""

    kind: str
    api: HfApi
    namespace: str
    prefix: str
    budget: Budget | None = None  # live only
    emulator: Emulator | None = None
    alive: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    _hardware: Hardware | None = None

    # --- connection -------------------------------------------------------------------------

    @contextlib.contextmanager
    def connected(self) -> Iterator[None]:
        """The client's URLs on this target (the emulator's are patched for the duration only;
        the live target uses the client's own defaults)."""
        with pytest.MonkeyPatch.context() as patch:
            if self.emulator is not None:
                patch.setattr(constants, "INFERENCE_ENDPOINTS_ENDPOINT", f"{self.emulator.url}/v2")
                patch.setattr(constants, "ENDPOINT", self.emulator.url)
            yield

    def raw(self, method: str, path: str, *, token: str | None = None, **params: Any) -> Any:
        """A request through the client's HTTP session, as sent and answered (no parsing)."""
        url = f"{constants.INFERENCE_ENDPOINTS_ENDPOINT}{path}"
        headers = build_hf_headers(token=token or self.api.token)
        return get_session().request(method, url, params=params or None, headers=headers)

    def health(self, url: str) -> int:
        """The status of a GET of an endpoint's health route, with the token."""
        headers = build_hf_headers(token=self.api.token)
        return int(get_session().get(url, headers=headers).status_code)

    # --- hardware and names -----------------------------------------------------------------

    @property
    def hardware(self) -> Hardware:
        if self._hardware is None:
            self._hardware = cheapest_cpu(self.api, self.namespace)
        return self._hardware

    @property
    def hardware_used(self) -> Hardware | None:
        return self._hardware

    def name(self, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        assert len(name) <= 32, f"endpoint name too long: {name}"
        return name

    # --- endpoints --------------------------------------------------------------------------

    def create(self, suffix: str, **overrides: Any) -> InferenceEndpoint:
        """An endpoint on the cheapest CPU hardware (`gpt2`, min 0 / max 1, 15 min to zero)."""
        if self.budget is not None:
            self.budget.admit(len(self.alive))
        hw = self.hardware
        arguments: dict[str, Any] = {
            "repository": "openai-community/gpt2",
            "framework": "pytorch",
            "task": "text-generation",
            "accelerator": hw.accelerator,
            "instance_type": hw.instance_type,
            "instance_size": hw.instance_size,
            "vendor": hw.vendor,
            "region": hw.region,
            "min_replica": 0,
            "max_replica": 1,
            "scale_to_zero_timeout": 15,
            "namespace": self.namespace,
            "token": self.api.token,
            **overrides,
        }
        name = self.name(suffix)
        endpoint = self.api.create_inference_endpoint(name, **arguments)
        self.alive.add(name)
        return endpoint

    @contextlib.contextmanager
    def endpoint(
        self,
        suffix: str,
        *,
        paused: bool = True,
        refused_means_skip: bool = False,
        **overrides: Any,
    ) -> Iterator[str]:
        """Create an endpoint, pause it at once (unless `paused=False`), delete it in the end.
        `refused_means_skip`: a 4xx on create (say, an engine the hardware does not run) skips
        the test instead of failing it: the assumption was not reached, not refuted."""
        name = self.name(suffix)
        try:
            try:
                self.create(suffix, **overrides)
            except HfHubHTTPError as error:
                code = status(error)
                if not refused_means_skip or code is None or not 400 <= code < 500:
                    raise
                pytest.skip(f"create refused ({code}): {str(error).splitlines()[0][:120]}")
            if paused:
                self.pause(name)
            yield name
        finally:
            self.delete(name)

    def get(self, name: str) -> dict[str, Any]:
        return dict(self.api.get_inference_endpoint(name, namespace=self.namespace).raw)

    def pause(self, name: str) -> dict[str, Any]:
        return dict(self.api.pause_inference_endpoint(name, namespace=self.namespace).raw)

    def update(self, name: str, **fields: Any) -> dict[str, Any]:
        endpoint = self.api.update_inference_endpoint(name, namespace=self.namespace, **fields)
        return dict(endpoint.raw)

    def delete(self, name: str) -> None:
        """Delete, ignoring an endpoint already gone (or never created)."""
        try:
            self.api.delete_inference_endpoint(name, namespace=self.namespace)
        except HfHubHTTPError as error:
            if status(error) != 404:
                raise
        self.alive.discard(name)
        self.deleted.add(name)

    def wait(
        self, what: str, done: Callable[[], bool], *, timeout: float, every: float = 5.0
    ) -> bool:
        """Poll `done` until true or `timeout` seconds (emulated time on the emulator, real
        time, capped by the budget, on the real service)."""
        if self.emulator is not None:
            waited = 0.0
            while not done():
                if waited >= timeout:
                    return False
                self.emulator.advance(1.0)
                waited += 1.0
            return True
        assert self.budget is not None
        deadline = time.monotonic() + min(timeout, max(self.budget.remaining(), 0))
        while not done():
            if time.monotonic() >= deadline:
                return False
            time.sleep(every)
        return True

    def sweep(self) -> list[str]:
        """Delete whatever this run left behind (names with its prefix); returns those it had
        not deleted already (a deleted endpoint may still be listed for a moment)."""
        listed = [
            e.name
            for e in self.api.list_inference_endpoints(namespace=self.namespace)
            if e.name.startswith(self.prefix + "-")
        ]
        left = [name for name in listed if name not in self.deleted]
        for name in listed:
            self.delete(name)
        return left


def status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def new_prefix() -> str:
    return f"prov-acc-{secrets.token_hex(3)}"


def live_target(environ: dict[str, str]) -> Target:
    token = environ["HF_TOKEN"].strip()
    return Target(
        kind=LIVE,
        api=HfApi(token=token),
        namespace=environ["PROVISIONER_LIVE_NAMESPACE"].strip(),
        prefix=new_prefix(),
        budget=Budget.from_environ(environ),
    )


def emulator_target(emulator: Emulator) -> Target:
    return Target(
        kind=EMULATOR,
        api=HfApi(endpoint=emulator.url, token="hf_demo"),
        namespace="demo",
        prefix=new_prefix(),
        emulator=emulator,
    )


def environ() -> dict[str, str]:
    return dict(os.environ)
