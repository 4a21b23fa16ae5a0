"""What the contract tests run against: the in-process emulator, or the real service.

Both are driven the same way, through the real `huggingface_hub` client (`HfApi`), plus raw
requests through the client's own HTTP session where a test must see the response as sent
(a list response's cursor). A test never knows which one it has, except to word what it saw.

The live target is opt-in (`PROVISIONER_LIVE=1`, `HF_TOKEN`, `PROVISIONER_LIVE_NAMESPACE`) and
runs on a small budget (`spend`): the cheapest deployable CPU hardware with quota to spare,
endpoint names starting with `prov-acc-<random>-`, at most `PROVISIONER_LIVE_MAX_ENDPOINTS`
(default 3) of them at a time, no new endpoint nor wait once `PROVISIONER_LIVE_MAX_MINUTES`
(default 20) have passed, and a worst case within `PROVISIONER_LIVE_MAX_COST`. Before its first
create (`preflight`) it deletes what earlier, killed runs left (the suite's tag `prov-acc-suite`,
another run's prefix), reading every page of the listing, and says what it will use and cost.

Every create goes through `Target.create`: one replica at most, scale to zero after 15 minutes
(an endpoint left by a killed run stops being billed on its own), unless the test says why it
needs otherwise (`billed_while_idle`). Every endpoint is paused at once unless the test needs it
running, and deleted in a `finally`; the session ends with a sweep of anything left with the
run's prefix.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from huggingface_hub import HfApi, InferenceEndpoint, constants
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from provisioner.emulator import Emulator
from provisioner.hub.client import follow_pages
from tests.acceptance.spend import Budget, Hardware, Refused, check_cost, pick_hardware, statement

EMULATOR = "emulator"
LIVE = "live"

LIVE_VARIABLES = ("PROVISIONER_LIVE", "HF_TOKEN", "PROVISIONER_LIVE_NAMESPACE")
OPT_IN = (
    "live acceptance is opt-in: set PROVISIONER_LIVE=1, HF_TOKEN (a token allowed to manage "
    "Inference Endpoints) and PROVISIONER_LIVE_NAMESPACE (where test endpoints may be created) "
    "and run `make acceptance`"
)
REFUSED = "live run refused: "


def live_refusal(environ: dict[str, str]) -> str | None:
    """Why the live target cannot run (None: it can)."""
    missing = [name for name in LIVE_VARIABLES if not environ.get(name, "").strip()]
    if environ.get("PROVISIONER_LIVE", "").strip() not in ("", "1"):
        return f"PROVISIONER_LIVE must be 1; {OPT_IN}"
    if missing:
        return f"not set: {', '.join(missing)}; {OPT_IN}"
    return None


# Every endpoint the suite creates carries this tag: what the sweep of a later run looks for
# (with a name of another run's prefix). Conservative form (ownership.py): it is no user's tag.
SUITE_TAG = "prov-acc-suite"
RUN_NAME = re.compile(r"^(prov-acc-[0-9a-f]{6})-")
SCALE_TO_ZERO_MINUTES = 15


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
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # create's answers
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
        """The cheapest CPU row with quota for the endpoints the run may hold at once (`Refused`
        when there is none)."""
        if self._hardware is None:
            at_once = (self.budget or Budget()).max_endpoints
            rows = self.api.list_inference_endpoints_hardware(namespace=self.namespace)
            self._hardware = pick_hardware(rows, at_once=at_once, namespace=self.namespace)
        return self._hardware

    @property
    def hardware_used(self) -> Hardware | None:
        return self._hardware

    def name(self, suffix: str) -> str:
        name = f"{self.prefix}-{suffix}"
        assert len(name) <= 32, f"endpoint name too long: {name}"
        return name

    def tagged(self, tags: Iterable[str] | None) -> list[str]:
        """`tags` plus the suite's tag, which every endpoint of the suite keeps (the sweep of a
        later run finds by it what a killed run left)."""
        given = list(tags or ())
        return given if SUITE_TAG in given else [*given, SUITE_TAG]

    # --- endpoints --------------------------------------------------------------------------

    def create(
        self, suffix: str, *, billed_while_idle: str | None = None, **overrides: Any
    ) -> InferenceEndpoint:
        """An endpoint on the run's hardware (`gpt2`, min 0 / max 1, scale to zero after 15
        minutes, the suite's tag): the one way the suite creates. An endpoint that would be
        billed while idle (`min_replica` above 0, or no scale-to-zero) is refused before
        anything is sent unless `billed_while_idle` says why the test needs it."""
        arguments: dict[str, Any] = {
            "repository": "openai-community/gpt2",
            "framework": "pytorch",
            "task": "text-generation",
            "min_replica": 0,
            "max_replica": 1,
            "scale_to_zero_timeout": SCALE_TO_ZERO_MINUTES,
            "namespace": self.namespace,
            "token": self.api.token,
            **overrides,
        }
        arguments["tags"] = self.tagged(arguments.get("tags"))
        idle = arguments["min_replica"] > 0 or not arguments["scale_to_zero_timeout"]
        if idle and not (billed_while_idle or "").strip():
            raise ValueError(
                f"{suffix}: min_replica {arguments['min_replica']}, scale_to_zero_timeout "
                f"{arguments['scale_to_zero_timeout']}: this endpoint would be billed while "
                "idle; scale it to zero, or say why the test needs it (billed_while_idle=...)"
            )
        if arguments["max_replica"] > 1:
            raise ValueError(f"{suffix}: the budget counts one replica per endpoint at most")
        if self.budget is not None:
            self.budget.admit(len(self.alive))
        hw = self.hardware
        for key, value in (
            ("accelerator", hw.accelerator),
            ("instance_type", hw.instance_type),
            ("instance_size", hw.instance_size),
            ("vendor", hw.vendor),
            ("region", hw.region),
        ):
            arguments.setdefault(key, value)
        name = self.name(suffix)
        endpoint = self.api.create_inference_endpoint(name, **arguments)
        self.alive.add(name)
        self.answers[name] = dict(endpoint.raw)
        return endpoint

    @contextlib.contextmanager
    def endpoint(
        self,
        suffix: str,
        *,
        paused: bool = True,
        refused_means_skip: bool = False,
        billed_while_idle: str | None = None,
        **overrides: Any,
    ) -> Iterator[str]:
        """Create an endpoint, pause it at once (unless `paused=False`), delete it in the end.
        `refused_means_skip`: a 4xx on create (say, an engine the hardware does not run) skips
        the test instead of failing it: the assumption was not reached, not refuted."""
        name = self.name(suffix)
        try:
            try:
                self.create(suffix, billed_while_idle=billed_while_idle, **overrides)
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
        """A PUT of `fields`; new `tags` keep the suite's tag."""
        if fields.get("tags") is not None:
            fields["tags"] = self.tagged(fields["tags"])
        endpoint = self.api.update_inference_endpoint(name, namespace=self.namespace, **fields)
        return dict(endpoint.raw)

    def delete(self, name: str) -> None:
        """Delete, ignoring an endpoint already gone (or never created)."""
        self._delete(name)
        self.alive.discard(name)
        self.deleted.add(name)

    def _delete(self, name: str) -> None:
        try:
            self.api.delete_inference_endpoint(name, namespace=self.namespace)
        except HfHubHTTPError as error:
            if status(error) != 404:
                raise

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

    # --- the listing and the sweeps ---------------------------------------------------------

    def listed(self) -> list[dict[str, Any]]:
        """Every endpoint of the namespace as the service sends it, page after page (following
        `nextCursor` with provisioner's own guard against a cursor sent twice): huggingface_hub's
        `list_inference_endpoints` reads the first page only."""

        def fetch(what: str, cursor: str | None) -> Any:
            params = {"cursor": cursor} if cursor is not None else {}
            response = self.raw("GET", f"/endpoint/{self.namespace}", **params)
            hf_raise_for_status(response)
            return response.json()

        items: list[dict[str, Any]] = []
        for page in follow_pages(f"list endpoints of {self.namespace}", fetch):
            items += [item for item in page if isinstance(item, dict)]
        return items

    def sweep(self) -> list[str]:
        """Delete whatever this run left behind (names with its prefix, on every page); returns
        those it had not deleted already (a deleted endpoint may still be listed for a moment)."""
        listed = [str(item.get("name")) for item in self.listed() if is_of_run(item, self.prefix)]
        left = [name for name in listed if name not in self.deleted]
        for name in listed:
            self.delete(name)
        return left

    def sweep_earlier(self) -> Leftovers:
        """Delete what earlier runs left (the suite's tag and another run's prefix), on every
        page of the listing, before this run creates anything."""
        found = leftovers(self.listed(), prefix=self.prefix)
        for name in found.swept:
            try:
                self._delete(name)
            except HfHubHTTPError as error:
                # Said, not fatal: this run's own endpoints are no less bounded for it.
                found.failed[name] = f"{status(error)}: {str(error).splitlines()[0][:120]}"
        return found


@dataclass(frozen=True)
class Leftovers:
    """What a sweep found of other runs: `swept` (deleted), `spared` (named like the suite's but
    without its tag: maybe not the suite's, so left alone), each with its state and age."""

    swept: tuple[str, ...] = ()
    spared: tuple[str, ...] = ()
    described: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # name -> why its delete failed

    def lines(self) -> tuple[str, ...]:
        deleted = [n for n in self.swept if n not in self.failed]
        said = [
            f"before the first create: {len(deleted)} endpoint(s) left by earlier runs "
            f"(tag {SUITE_TAG}) deleted"
            + (": " + ", ".join(self.described[n] for n in deleted) if deleted else "")
        ]
        if self.failed:
            said.append(
                "could not delete (delete them yourself): "
                + ", ".join(f"{self.described[n]}: {why}" for n, why in self.failed.items())
            )
        if self.spared:
            said.append(
                f"left alone, named like the suite's but without its tag {SUITE_TAG} "
                "(delete them yourself if they are the suite's): "
                + ", ".join(self.described[n] for n in self.spared)
            )
        return tuple(said)


def is_of_run(item: dict[str, Any], prefix: str) -> bool:
    match = RUN_NAME.match(str(item.get("name", "")))
    return match is not None and match.group(1) == prefix


def leftovers(items: Iterable[dict[str, Any]], *, prefix: str) -> Leftovers:
    """Which listed endpoints an earlier run of the suite left: a name `prov-acc-<6 hex>-...`
    of another prefix than `prefix`, with the suite's tag. Never anything without both."""
    swept: list[str] = []
    spared: list[str] = []
    described: dict[str, str] = {}
    for item in items:
        name = str(item.get("name", ""))
        match = RUN_NAME.match(name)
        if match is None or match.group(1) == prefix:
            continue
        status_ = item.get("status") if isinstance(item.get("status"), dict) else {}
        described[name] = (
            f"{name} ({status_.get('state', '?')}, created {status_.get('createdAt', '?')})"
        )
        tags = item.get("tags") if isinstance(item.get("tags"), list) else []
        (swept if SUITE_TAG in tags else spared).append(name)
    return Leftovers(tuple(swept), tuple(spared), described)


@dataclass(frozen=True)
class Preflight:
    """What a live run said before its first create, and why it will not start (None: it
    will)."""

    said: tuple[str, ...]
    refusal: str | None = None


def preflight(world: Target) -> Preflight:
    """Before the first create of a live run: sweep what earlier runs left, pick the hardware
    with quota in mind, work out the worst case and refuse it beyond `PROVISIONER_LIVE_MAX_COST`.
    Creates nothing."""
    budget = world.budget or Budget()
    said = list(world.sweep_earlier().lines())
    try:
        hardware = world.hardware
        said += statement(hardware, budget)
        check_cost(hardware, budget)
    except Refused as refused:
        return Preflight(tuple(said), str(refused))
    return Preflight(tuple(said))


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
