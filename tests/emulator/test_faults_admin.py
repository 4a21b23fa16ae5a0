"""Fault injection, the admin routes and the request log (with redaction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from provisioner.emulator import Emulator, EmulatorConfig
from tests.support.hub import create
from tests.support.raw_http import call


def statuses(emu: Emulator, count: int) -> list[int]:
    return [call("GET", f"{emu.url}/v2/endpoint/demo").status for _ in range(count)]


def test_fixed_latency_is_applied_to_every_request() -> None:
    slept: list[float] = []
    with Emulator(EmulatorConfig(speed=0, latency_ms=250), sleep=slept.append) as emu:
        call("GET", f"{emu.url}/v2/endpoint/demo")
        call("GET", f"{emu.url}/api/whoami-v2")
        call("GET", f"{emu.url}/admin/requests")  # admin routes are exempt
    assert slept == [0.25, 0.25]


def test_random_faults_are_deterministic_for_a_seed(make_emulator: Callable[..., Emulator]) -> None:
    a = statuses(make_emulator(fault_rate=0.5, seed=7), 40)
    b = statuses(make_emulator(fault_rate=0.5, seed=7), 40)
    c = statuses(make_emulator(fault_rate=0.5, seed=8), 40)
    assert a == b != c
    assert set(a) <= {200, 429, 500, 503}
    assert {429, 500, 503} <= set(a) and 200 in a


def test_random_faults_only_hit_the_v2_api(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(fault_rate=1.0, seed=1)
    assert call("GET", f"{emu.url}/api/whoami-v2").status == 200
    assert call("GET", f"{emu.url}/api/agent-harnesses").status == 200
    assert call("GET", f"{emu.url}/admin/requests").status == 200
    reply = call("GET", f"{emu.url}/v2/endpoint/demo")
    assert reply.status in (429, 500, 503)
    log = emu.requests()
    assert log[-1]["fault"] == "random"


def test_random_429_carries_retry_after(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(fault_rate=1.0, seed=3)
    replies = [call("GET", f"{emu.url}/v2/endpoint/demo") for _ in range(30)]
    throttled = [r for r in replies if r.status == 429]
    assert throttled
    assert all(1 <= int(r.headers["retry-after"]) <= 5 for r in throttled)
    assert all("retry-after" not in r.headers for r in replies if r.status != 429)


def test_scripted_http_fault_fails_the_next_n_matching_calls(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    fault = emulator.add_fault(
        {
            "kind": "http",
            "method": "GET",
            "path": "/v2/endpoint/demo/*",
            "status": 503,
            "count": 2,
            "retry_after": 7,
        }
    )
    assert fault["id"].startswith("fault-")
    assert call("GET", f"{emulator.url}/v2/endpoint/demo").status == 200  # path does not match
    assert call("POST", f"{emulator.url}/v2/endpoint/demo/ep/pause").status == 200  # method
    for _ in range(2):
        with pytest.raises(HfHubHTTPError) as err:
            hf_api.get_inference_endpoint("ep", namespace="demo")
        assert err.value.response.status_code == 503
        assert err.value.response.headers["retry-after"] == "7"
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "paused"


def test_fault_after_the_operation_loses_the_response(hf_api: HfApi, emulator: Emulator) -> None:
    emulator.add_fault(
        {
            "kind": "http",
            "method": "POST",
            "path": "/v2/endpoint/demo",
            "status": 500,
            "after": True,
        }
    )
    with pytest.raises(HfHubHTTPError) as err:
        create(hf_api)
    assert err.value.response.status_code == 500
    # The endpoint was created all the same: a retry now meets a 409.
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "pending"


def test_dropped_field_fault_accepts_a_put_and_keeps_the_old_value(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api, max_replica=1)
    fault = {"kind": "drop_field", "namespace": "demo", "name": "ep"}
    emulator.add_fault({**fault, "field": "compute.scaling.maxReplica"})
    answered = hf_api.update_inference_endpoint(
        "ep", namespace="demo", max_replica=3, env={"MODE": "fast"}
    )
    assert answered.raw["compute"]["scaling"]["maxReplica"] == 1  # as if never sent
    assert answered.raw["model"]["env"] == {"MODE": "fast"}  # the rest of the PUT is taken
    again = hf_api.update_inference_endpoint("ep", namespace="demo", max_replica=3)
    assert again.raw["compute"]["scaling"]["maxReplica"] == 3  # one PUT only
    with pytest.raises(ValueError, match="field"):
        emulator.add_fault(fault)


def test_admin_fault_routes(emulator: Emulator) -> None:
    base = f"{emulator.url}/admin/faults"
    added = call(
        "POST", base, {"kind": "fail_deploy", "namespace": "demo", "name": "x"}, token=None
    )
    assert added.status == 201
    assert added.json()["message"] == "Endpoint failed to deploy"
    listed = call("GET", base, token=None).json()
    assert [f["id"] for f in listed] == [added.json()["id"]]
    assert call("POST", base, {"kind": "nope"}, token=None).status == 400
    assert (
        call("POST", base, {"kind": "http", "path": "/x", "status": 200}, token=None).status == 400
    )
    assert call("POST", base, raw=b"{", token=None).status == 400
    assert call("DELETE", base, token=None).status == 200
    assert call("GET", base, token=None).json() == []
    with pytest.raises(ValueError, match="kind"):
        emulator.add_fault({"kind": "explode"})


def test_admin_clock_advances_emulated_time(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    reply = call("POST", f"{emulator.url}/admin/clock", {"advance": 15}, token=None)
    assert reply.status == 200 and reply.json()["now"] == pytest.approx(15.0)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "running"
    assert call("POST", f"{emulator.url}/admin/clock", {"advance": -1}, token=None).status == 400
    assert call("GET", f"{emulator.url}/admin/clock", token=None).json()["speed"] == 0.0


def test_admin_reset_forgets_everything(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    emulator.add_fault({"kind": "fail_update", "namespace": "demo", "name": "ep"})
    assert call("POST", f"{emulator.url}/admin/reset", token=None).status == 200
    assert hf_api.list_inference_endpoints(namespace="demo") == []
    assert call("GET", f"{emulator.url}/admin/faults", token=None).json() == []
    assert [r["path"] for r in emulator.requests()] == ["/v2/endpoint/demo"]
    emulator.reset()
    assert emulator.requests() == []


def test_request_log_records_calls_oldest_first(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    emulator.advance(5)
    hf_api.pause_inference_endpoint("ep", namespace="demo")
    log = [r for r in emulator.requests() if r["path"].startswith("/v2/")]
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/v2/endpoint/demo", 200),
        ("POST", "/v2/endpoint/demo/ep/pause", 200),
    ]
    assert (log[0]["namespace"], log[0]["name"]) == ("demo", None)
    assert (log[1]["namespace"], log[1]["name"]) == ("demo", "ep")
    assert (log[0]["time"], log[1]["time"]) == (0.0, 5.0)
    assert log[0]["body"]["name"] == "ep" and log[1]["body"] is None
    assert log[0]["requestId"] != log[1]["requestId"]
    reply = call("GET", f"{emulator.url}/v2/endpoint/demo", headers={"X-Amzn-Trace-Id": "trace-1"})
    assert reply.headers["x-request-id"] == "trace-1"
    assert emulator.requests()[-1]["requestId"] == "trace-1"
    over_http = call("GET", f"{emulator.url}/admin/requests", token=None).json()
    assert over_http == emulator.requests()
    cleared = call("DELETE", f"{emulator.url}/admin/requests", token=None).json()
    assert cleared == {"cleared": len(over_http)}
    assert emulator.requests() == []


def test_request_log_and_responses_never_contain_secrets(hf_api: HfApi, emulator: Emulator) -> None:
    secrets = ["sk-live-123", "hunter2", "tok-in-env"]
    ep = create(
        hf_api,
        secrets={"OPENAI_API_KEY": secrets[0]},
        custom_image={"url": "registry.example.com/app:1"},
        container_registry_username="robot",
        container_registry_password=secrets[1],
        env={"MY_TOKEN": secrets[2], "PLAIN": "visible"},
    )
    hf_api.update_inference_endpoint("ep", namespace="demo", secrets={"OTHER": secrets[0]})
    log = str(emulator.requests())
    for secret in [*secrets, "hf_demo"]:
        assert secret not in log
        assert secret not in str(ep.raw) or secret == secrets[2]  # env is not secret
    assert "visible" in log
    body: dict[str, Any] = emulator.requests()[0]["body"]
    assert body["model"]["secrets"] == {"OPENAI_API_KEY": "***"}
    assert body["model"]["image"]["custom"]["credentials"] == {
        "username": "robot",
        "password": "***",
    }
