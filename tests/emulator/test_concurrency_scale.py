"""Many clients at once, and 5 000 endpoints in one namespace."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from provisioner.emulator import Emulator
from tests.support.hub import create
from tests.support.raw_http import call, create_body


def test_concurrent_clients_see_a_consistent_store(hf_api: HfApi, emulator: Emulator) -> None:
    def work(worker: int) -> list[str]:
        names = []
        for i in range(15):
            name = f"w{worker}-{i}"
            create(hf_api, name, instance_size="x1", namespace=("demo", "acme")[i % 2])
            names.append(name)
            if i % 3 == 0:
                hf_api.pause_inference_endpoint(name, namespace=("demo", "acme")[i % 2])
            hf_api.list_inference_endpoints(namespace="demo")
        return names

    with ThreadPoolExecutor(max_workers=12) as pool:
        created = [n for names in pool.map(work, range(12)) for n in names]
    listed = [e for ns in ("demo", "acme") for e in hf_api.list_inference_endpoints(namespace=ns)]
    assert sorted(e.name for e in listed) == sorted(created)
    assert len(created) == len(set(created)) == 180
    paused = sum(e.status == "paused" for e in listed)
    assert paused == 12 * 5
    hardware = {
        ns: {h.id: h for h in hf_api.list_inference_endpoints_hardware(namespace=ns)}
        for ns in ("demo", "acme")
    }
    used = sum(h["aws-us-east-1-intel-spr-x1"].used_accelerators for h in hardware.values())
    assert used == 180 - paused


def test_quota_holds_under_a_race(hf_api: HfApi) -> None:
    gpu = {"accelerator": "gpu", "instance_type": "nvidia-a100", "instance_size": "x1"}

    def attempt(i: int) -> int:
        try:
            create(hf_api, f"gpu-{i}", **gpu)
        except HfHubHTTPError as err:
            assert "Quota exceeded" in str(err)
            return err.response.status_code
        return 200

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(attempt, range(20)))
    assert results.count(200) == 8  # aws nvidia-a100 default quota
    assert results.count(409) == 12


def _create_many(emu: Emulator, count: int) -> None:
    """Create `count` endpoints over one keep-alive connection."""
    host, port = emu.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": "Bearer hf_demo", "Content-Type": "application/json"}
    for i in range(count):
        body = create_body(f"ep-{i}")
        conn.request("POST", "/v2/endpoint/demo", json.dumps(body), headers)
        reply = conn.getresponse()
        reply.read()
        assert reply.status == 200
    conn.close()


@pytest.mark.slow
def test_five_thousand_endpoints_stay_fast(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    emu = make_emulator(quotas={"*": {"aws": {"intel-spr": 10_000}}})
    _create_many(emu, 5000)
    # How fast is for the benchmarks to measure (no wall-clock thresholds in tests on shared,
    # noisy machines); here: 5 000 endpoints are created, listed, settled and counted right.
    api = hub_for(emu)
    emu.advance(3600)  # every endpoint has transitions to settle on this read
    endpoints = api.list_inference_endpoints(namespace="demo")
    assert len(endpoints) == 5000 and {e.status for e in endpoints} == {"running"}
    hardware = {h.id: h for h in api.list_inference_endpoints_hardware(namespace="demo")}
    assert hardware["aws-us-east-1-intel-spr-x1"].used_accelerators == 5000


def test_stop_returns_promptly_with_open_keep_alive_connections(emulator: Emulator) -> None:
    host, port = emulator.url.removeprefix("http://").rsplit(":", 1)
    conns = [http.client.HTTPConnection(host, int(port), timeout=30) for _ in range(5)]
    for conn in conns:
        conn.request("GET", "/api/agent-harnesses")
        conn.getresponse().read()
    before = threading.active_count()
    # A liveness check, not a speed one: open keep-alive connections must not block stop().
    stopper = threading.Thread(target=emulator.stop)
    stopper.start()
    stopper.join(timeout=60)
    assert not stopper.is_alive(), "stop() hung on open keep-alive connections"
    deadline = time.monotonic() + 5
    while threading.active_count() >= before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() < before  # handler threads ended with their connections
    for conn in conns:
        conn.close()


def test_listing_reflects_every_change(hf_api: HfApi, emulator: Emulator) -> None:
    # Listing serves cached JSON per endpoint; every kind of change must show up in it.
    def listed() -> dict[str, Any]:
        return {e.name: e.raw for e in hf_api.list_inference_endpoints(namespace="demo")}

    create(hf_api, "a", min_replica=0, scale_to_zero_timeout=1)
    assert listed()["a"]["status"]["state"] == "pending"
    emulator.advance(15)
    assert listed()["a"]["status"]["state"] == "running"  # time
    hf_api.update_inference_endpoint("a", namespace="demo", tags=["t"])
    assert listed()["a"]["tags"] == ["t"]  # PUT without redeploy
    emulator.advance(60)
    assert listed()["a"]["status"]["state"] == "scaledToZero"  # idle timer
    url = listed()["a"]["status"]["url"]
    other_host = url.replace("127.0.0.1", "localhost")
    assert call("POST", other_host, {"inputs": "x"}).status == 503  # wakes it
    assert listed()["a"]["status"]["state"] == "initializing"
    via_localhost = call(
        "GET", f"{emulator.url.replace('127.0.0.1', 'localhost')}/v2/endpoint/demo"
    )
    assert (
        via_localhost.json()["items"][0]["status"]["url"] == other_host
    )  # URLs follow the Host header
    assert listed()["a"]["status"]["url"] == url
