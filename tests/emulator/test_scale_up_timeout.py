"""`X-Scale-Up-Timeout`: a request to a starting endpoint waits (on the emulated clock) until it
runs, up to that many seconds; without it, 503 while a replica starts.

The emulator runs at speed 1 on a fake monotonic clock that only its own sleep moves: a held
request moves emulated time exactly as far as it waited, and no test waits on real time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator, EmulatorConfig
from tests.support.hub import SCALE_UP, TO_RUNNING, UPDATING, create
from tests.support.raw_http import Reply, call

BODY = {"inputs": "hi"}


class FakeTime:
    """A monotonic clock that moves only when slept on (the emulator's injected sleep)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self.on_sleep: Callable[[], None] | None = None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.on_sleep is not None:
            hook, self.on_sleep = self.on_sleep, None
            hook()
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def emu(fake: FakeTime) -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(speed=1.0), monotonic=fake.monotonic, sleep=fake.sleep) as emu:
        yield emu


@pytest.fixture
def api(emu: Emulator, hub_for: Callable[..., HfApi]) -> HfApi:
    return hub_for(emu)


def scaled_to_zero(api: HfApi, emu: Emulator, **kw: Any) -> str:
    create(api, **kw)
    emu.advance(TO_RUNNING)
    ep = api.scale_to_zero_inference_endpoint("ep", namespace="demo")
    assert ep.status == "scaledToZero" and ep.url is not None
    return ep.url


def post(url: str, timeout: str | None) -> Reply:
    headers = {} if timeout is None else {"X-Scale-Up-Timeout": timeout}
    return call("POST", url, BODY, headers=headers)


def test_without_the_header_a_scaled_to_zero_endpoint_answers_503_and_wakes(
    api: HfApi, emu: Emulator
) -> None:
    url = scaled_to_zero(api, emu)
    reply = post(url, None)
    assert reply.status == 503 and "scaling up" in reply.json()["error"]
    assert api.get_inference_endpoint("ep", namespace="demo").status == "initializing"
    assert post(url, None).status == 503  # still starting: no header, no wait
    emu.advance(SCALE_UP)
    assert post(url, None).status == 200


def test_with_the_header_the_request_waits_for_the_replica_and_is_answered(
    api: HfApi, emu: Emulator, fake: FakeTime
) -> None:
    url = scaled_to_zero(api, emu)
    before = emu.now()
    reply = post(url, "60")
    assert reply.status == 200
    assert isinstance(reply.json(), list) and "generated_text" in reply.json()[0]
    # It waited exactly as long as the replica took to start, not the whole 60 s.
    assert emu.now() - before == pytest.approx(SCALE_UP, abs=1e-6)
    assert api.get_inference_endpoint("ep", namespace="demo").status == "running"


def test_a_header_shorter_than_the_start_ends_in_503_after_that_long(
    api: HfApi, emu: Emulator
) -> None:
    url = scaled_to_zero(api, emu)
    before = emu.now()
    reply = post(url, "2")
    assert reply.status == 503
    assert "X-Scale-Up-Timeout of 2s" in reply.json()["error"]
    assert emu.now() - before == pytest.approx(2, abs=1e-6)
    # The wake it started goes on: asked again with enough time, it is answered.
    assert post(url, "10").status == 200


def test_a_new_endpoint_without_its_url_yet_is_not_waited_for(
    api: HfApi, emu: Emulator, fake: FakeTime
) -> None:
    create(api)
    url = f"{emu.url}/endpoints/demo/ep"
    emu.advance(3)  # initializing: the URL is not shown yet, nothing routes to it
    assert post(url, "60").status == 503
    assert fake.slept == []


def test_an_updating_endpoint_is_waited_for(api: HfApi, emu: Emulator) -> None:
    create(api)
    emu.advance(TO_RUNNING)
    url = f"{emu.url}/endpoints/demo/ep"
    api.update_inference_endpoint("ep", namespace="demo", max_replica=2)
    before = emu.now()
    assert post(url, "60").status == 200
    assert emu.now() - before == pytest.approx(UPDATING, abs=1e-6)


def test_a_paused_endpoint_is_not_woken_nor_waited_for(
    api: HfApi, emu: Emulator, fake: FakeTime
) -> None:
    url = scaled_to_zero(api, emu)
    api.pause_inference_endpoint("ep", namespace="demo")
    reply = post(url, "60")
    assert reply.status == 503 and "paused" in reply.json()["error"]
    assert fake.slept == []
    assert api.get_inference_endpoint("ep", namespace="demo").status == "paused"


@pytest.mark.parametrize("value", ["soon", "-5", "0", "nan"])
def test_a_header_that_is_not_a_positive_number_is_as_if_absent(
    api: HfApi, emu: Emulator, fake: FakeTime, value: str
) -> None:
    url = scaled_to_zero(api, emu)
    assert post(url, value).status == 503
    assert fake.slept == []


def test_a_frozen_clock_ignores_the_header(emulator: Emulator, hf_api: HfApi) -> None:
    """At speed 0 nothing can pass while a request waits: 503 at once, as without the header."""
    url = scaled_to_zero(hf_api, emulator)
    assert post(url, "60").status == 503
    emulator.advance(SCALE_UP)
    assert post(url, "60").status == 200


def test_a_waiting_request_does_not_block_other_requests(
    api: HfApi, emu: Emulator, fake: FakeTime
) -> None:
    url = scaled_to_zero(api, emu)
    seen: list[str] = []

    def list_meanwhile() -> None:
        # Another client, while the first request waits: it must be served, not wait for it.
        worker = threading.Thread(
            target=lambda: seen.append(api.get_inference_endpoint("ep", namespace="demo").status)
        )
        worker.start()
        worker.join(timeout=60)  # a hang guard: a held lock would never let it finish

    fake.on_sleep = list_meanwhile
    assert post(url, "60").status == 200
    assert seen == ["initializing"]
