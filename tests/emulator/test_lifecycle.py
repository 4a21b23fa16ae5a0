"""The state machine, driven through huggingface_hub's HfApi and InferenceEndpoint."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError, InferenceEndpointError

from provisioner.emulator import Durations, Emulator, EmulatorConfig
from tests.support.hub import (
    DELETE_GRACE,
    RESUME_TO_RUNNING,
    SCALE_UP,
    TO_RUNNING,
    UPDATING,
    create,
)
from tests.support.raw_http import call, create_body


def test_create_returns_a_pending_endpoint_with_every_field_the_client_needs(
    hf_api: HfApi,
) -> None:
    ep = create(hf_api, "my-ep", tags=["dev"], env={"A": "1"})
    assert ep.status == "pending" and ep.url is None
    raw = ep.raw
    assert raw["healthRoute"] == "/health"
    assert re.fullmatch(r"[0-9a-f]{40}", raw["model"]["revision"])
    assert raw["model"]["task"] == "text-generation"  # filled when none is sent
    assert raw["compute"]["id"] == "aws-us-east-1-intel-spr-x2"
    assert raw["compute"]["scaling"]["metric"] == "hardwareUsage"
    assert raw["compute"]["scaling"]["measure"] == {"hardwareUsage": None}
    assert raw["status"]["createdBy"]["name"] == "demo"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", raw["status"]["createdAt"])
    assert raw["status"]["message"] == "Endpoint waiting to be scheduled"
    assert (raw["status"]["readyReplica"], raw["status"]["targetReplica"]) == (0, 1)
    assert raw["accountId"] is None and raw["tags"] == ["dev"] and raw["type"] == "authenticated"
    assert ep.created_at == ep.updated_at  # parsed by the client


def test_revision_defaults_to_a_stable_sha_and_an_explicit_one_is_kept(hf_api: HfApi) -> None:
    a = create(hf_api, "a")
    b = create(hf_api, "b")
    c = create(hf_api, "c", revision="abc")
    assert a.revision == b.revision != "abc"
    assert c.revision == "abc"


def test_create_goes_pending_initializing_running_in_emulated_time(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    emulator.advance(2.9)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "pending"
    emulator.advance(0.2)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "initializing"
    emulator.advance(TO_RUNNING)
    ep = hf_api.get_inference_endpoint("ep", namespace="demo")
    assert ep.status == "running"
    assert ep.url == f"{emulator.url}/endpoints/demo/ep"
    status = ep.raw["status"]
    assert status["readyReplica"] == status["targetReplica"] == 1
    assert status["message"] == "Endpoint is ready"


@pytest.mark.usefixtures("wait_advances_clock")
def test_wait_returns_once_running_and_healthy(hf_api: HfApi, emulator: Emulator) -> None:
    ep = create(hf_api)
    ep.wait(refresh_every=1)
    assert ep.status == "running"
    assert TO_RUNNING <= emulator.now() <= TO_RUNNING + 1
    assert call("GET", f"{ep.url}/health").status == 200


def test_pause_hides_the_url_and_sets_both_replica_counts_to_zero(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api, min_replica=0, max_replica=3, scale_to_zero_timeout=15)
    emulator.advance(TO_RUNNING)
    ep = hf_api.pause_inference_endpoint("ep", namespace="demo")
    assert ep.status == "paused" and ep.url is None
    assert ep.raw["status"]["targetReplica"] == 0
    scaling = ep.raw["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (0, 0)
    assert scaling["scaleToZeroTimeout"] == 15  # the other scaling settings are kept
    emulator.advance(3600)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "paused"


def test_resume_of_a_paused_endpoint_sets_both_replica_counts_to_one(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api, min_replica=2, max_replica=3)
    emulator.advance(TO_RUNNING)
    hf_api.pause_inference_endpoint("ep", namespace="demo")
    ep = hf_api.resume_inference_endpoint("ep", namespace="demo")
    scaling = ep.raw["compute"]["scaling"]
    assert (scaling["minReplica"], scaling["maxReplica"]) == (1, 1)
    emulator.advance(RESUME_TO_RUNNING)
    ep = hf_api.get_inference_endpoint("ep", namespace="demo")
    assert ep.status == "running" and ep.raw["status"]["targetReplica"] == 1


def test_put_with_max_replica_zero_pauses_a_running_endpoint(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api, min_replica=1, max_replica=2)
    emulator.advance(TO_RUNNING)
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", min_replica=0, max_replica=0)
    assert ep.status == "paused" and ep.url is None
    assert ep.raw["status"]["targetReplica"] == 0
    emulator.advance(3600)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "paused"
    # minReplica stays <= maxReplica: max 0 alone over min 1 is refused, nothing changes.
    create(hf_api, "other", min_replica=1, max_replica=2)
    with pytest.raises(BadRequestError, match="minReplica \\(1\\) must be lower"):
        hf_api.update_inference_endpoint("other", namespace="demo", max_replica=0)
    assert hf_api.get_inference_endpoint("other", namespace="demo").status == "pending"


def test_create_with_max_replica_zero_is_400(hf_api: HfApi) -> None:
    with pytest.raises(BadRequestError, match="maxReplica: must be at least 1"):
        create(hf_api, min_replica=0, max_replica=0)


def test_resume_goes_through_pending_and_keeps_the_same_url(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    url = hf_api.get_inference_endpoint("ep", namespace="demo").url
    hf_api.pause_inference_endpoint("ep", namespace="demo")
    ep = hf_api.resume_inference_endpoint("ep", namespace="demo")
    assert ep.status == "pending" and ep.url is None
    emulator.advance(RESUME_TO_RUNNING)
    ep = hf_api.get_inference_endpoint("ep", namespace="demo")
    assert ep.status == "running" and ep.url == url


def test_resume_on_a_running_endpoint_is_a_400_saying_already_running(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    # running_ok=True (the default) relies on the text; the client then GETs the endpoint.
    assert hf_api.resume_inference_endpoint("ep", namespace="demo").status == "running"
    with pytest.raises(BadRequestError, match="already running"):
        hf_api.resume_inference_endpoint("ep", namespace="demo", running_ok=False)


def test_scale_to_zero_keeps_the_url_and_a_request_wakes_it(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    ep = hf_api.scale_to_zero_inference_endpoint("ep", namespace="demo")
    assert ep.status == "scaledToZero" and ep.url is not None
    assert ep.raw["status"]["targetReplica"] == 0
    reply = call("POST", ep.url, {"inputs": "hi"})
    assert reply.status == 503
    ep = hf_api.get_inference_endpoint("ep", namespace="demo")
    assert ep.status == "initializing" and ep.url is not None
    emulator.advance(SCALE_UP)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "running"
    assert call("POST", ep.url, {"inputs": "hi"}).status == 200


def test_idle_endpoint_with_min_replica_zero_scales_to_zero_after_the_timeout(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api, "idle", min_replica=0, scale_to_zero_timeout=15)
    create(hf_api, "busy", min_replica=0, scale_to_zero_timeout=15)
    create(hf_api, "always-on", min_replica=1, scale_to_zero_timeout=15)
    emulator.advance(TO_RUNNING)
    busy_url = hf_api.get_inference_endpoint("busy", namespace="demo").url
    assert busy_url is not None
    for _ in range(3):  # a request every 10 minutes resets the idle timer
        emulator.advance(10 * 60)
        assert call("POST", busy_url, {"inputs": "x"}).status == 200
    states = {e.name: e.status for e in hf_api.list_inference_endpoints(namespace="demo")}
    assert states == {"idle": "scaledToZero", "busy": "running", "always-on": "running"}
    idle = hf_api.get_inference_endpoint("idle", namespace="demo")
    assert idle.url is not None  # scaled to zero keeps its URL


def test_update_goes_through_updating_with_the_url_kept(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING + 10)
    before = hf_api.get_inference_endpoint("ep", namespace="demo")
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", max_replica=2)
    assert ep.status == "updating" and ep.url == before.url
    assert ep.raw["status"]["message"] == "Endpoint waiting for the update"
    assert ep.updated_at > before.updated_at and ep.created_at == before.created_at
    emulator.advance(UPDATING)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "running"


@pytest.mark.usefixtures("wait_advances_clock")
def test_scripted_update_failure_ends_update_failed(hf_api: HfApi, emulator: Emulator) -> None:
    ep = create(hf_api)
    ep.wait(refresh_every=1)
    emulator.add_fault({"kind": "fail_update", "namespace": "demo", "name": "ep"})
    ep.update(max_replica=2)
    with pytest.raises(InferenceEndpointError, match="failed to update"):
        ep.wait(refresh_every=1)
    assert ep.status == "updateFailed"
    assert ep.url is not None
    # The same PUT again is a retry: it redeploys (and, without a fault, succeeds).
    ep.update(max_replica=2)
    assert ep.status == "updating"
    ep.wait(refresh_every=1)
    assert ep.status == "running"


@pytest.mark.usefixtures("wait_advances_clock")
def test_scripted_deploy_failure_ends_failed_with_the_message(
    hf_api: HfApi, emulator: Emulator
) -> None:
    emulator.add_fault(
        {"kind": "fail_deploy", "namespace": "demo", "name": "ep", "message": "CUDA OOM"}
    )
    ep = create(hf_api)
    with pytest.raises(InferenceEndpointError, match="failed to deploy"):
        ep.wait(refresh_every=1)
    assert ep.raw["status"]["message"] == "CUDA OOM"
    assert ep.url is None
    # The fault is consumed: the next endpoint with that name deploys fine.
    hf_api.delete_inference_endpoint("ep", namespace="demo")
    emulator.advance(DELETE_GRACE)
    create(hf_api)
    emulator.advance(TO_RUNNING)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "running"


def test_failed_endpoint_cannot_be_updated_paused_or_resumed(
    hf_api: HfApi, emulator: Emulator
) -> None:
    emulator.add_fault({"kind": "fail_deploy", "namespace": "demo", "name": "ep"})
    create(hf_api)
    emulator.advance(TO_RUNNING)
    for action in (
        lambda: hf_api.update_inference_endpoint("ep", namespace="demo", max_replica=2),
        lambda: hf_api.pause_inference_endpoint("ep", namespace="demo"),
        lambda: hf_api.resume_inference_endpoint("ep", namespace="demo"),
        lambda: hf_api.scale_to_zero_inference_endpoint("ep", namespace="demo"),
    ):
        with pytest.raises(BadRequestError, match=r"failed state .* create a new endpoint"):
            action()


def test_update_on_a_paused_endpoint_without_replica_counts_is_stored_and_it_stays_paused(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    hf_api.pause_inference_endpoint("ep", namespace="demo")
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", env={"A": "1"})
    assert ep.status == "paused"
    # Replica counts of 0 are "stay paused" too.
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", min_replica=0, max_replica=0)
    assert ep.status == "paused"
    emulator.advance(3600)
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "paused"
    hf_api.resume_inference_endpoint("ep", namespace="demo")
    emulator.advance(RESUME_TO_RUNNING)
    ep = hf_api.get_inference_endpoint("ep", namespace="demo")
    assert ep.status == "running" and ep.raw["model"]["env"]["A"] == "1"


def test_update_carrying_replica_counts_resumes_a_paused_endpoint(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    hf_api.pause_inference_endpoint("ep", namespace="demo")
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", min_replica=1, max_replica=3)
    assert ep.status == "pending"  # the same way as the resume route
    emulator.advance(RESUME_TO_RUNNING)
    ep = hf_api.get_inference_endpoint("ep", namespace="demo")
    assert ep.status == "running"
    assert (ep.raw["compute"]["scaling"]["minReplica"], ep.raw["status"]["targetReplica"]) == (
        1,
        1,
    )
    assert ep.raw["compute"]["scaling"]["maxReplica"] == 3


def test_deleted_endpoint_stays_visible_for_the_grace_period_then_404(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    create(hf_api, "other")
    hf_api.delete_inference_endpoint("ep", namespace="demo")
    assert hf_api.get_inference_endpoint("ep", namespace="demo").name == "ep"
    assert {e.name for e in hf_api.list_inference_endpoints(namespace="demo")} == {"ep", "other"}
    emulator.advance(DELETE_GRACE)
    with pytest.raises(HfHubHTTPError) as err:
        hf_api.get_inference_endpoint("ep", namespace="demo")
    assert err.value.response.status_code == 404
    assert "Endpoint 'ep' not found" in str(err.value)
    assert [e.name for e in hf_api.list_inference_endpoints(namespace="demo")] == ["other"]


def test_a_deleted_name_can_stay_reserved_after_get_is_404(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    emu = make_emulator(durations=Durations(delete_grace=1, name_reserved=30))
    api = hub_for(emu)
    create(api)
    api.delete_inference_endpoint("ep", namespace="demo")
    emu.advance(1)
    with pytest.raises(HfHubHTTPError) as gone:
        api.get_inference_endpoint("ep", namespace="demo")
    assert gone.value.response.status_code == 404
    with pytest.raises(HfHubHTTPError) as refused:
        create(api)
    assert refused.value.response.status_code == 409
    assert "Endpoint 'ep' already exists" in str(refused.value)
    emu.advance(30)
    assert create(api).name == "ep"


def test_list_is_per_namespace(hf_api: HfApi) -> None:
    create(hf_api, "mine")
    create(hf_api, "ours", namespace="acme")
    assert [e.name for e in hf_api.list_inference_endpoints(namespace="demo")] == ["mine"]
    listed = hf_api.list_inference_endpoints(namespace="acme")
    assert [(e.name, e.namespace) for e in listed] == [("ours", "acme")]


def test_speed_scales_every_duration() -> None:
    real = [0.0]
    config = EmulatorConfig(speed=10.0, durations=Durations(pending=3, initializing=12))
    with Emulator(config, monotonic=lambda: real[0]) as emu:
        assert call("POST", f"{emu.url}/v2/endpoint/demo", create_body()).status == 200
        real[0] = 1.4  # 14 emulated seconds
        state = call("GET", f"{emu.url}/v2/endpoint/demo/ep").json()["status"]["state"]
        assert state == "initializing"
        real[0] = 1.5  # 15 emulated seconds: 3 + 12
        assert call("GET", f"{emu.url}/v2/endpoint/demo/ep").json()["status"]["state"] == "running"


def test_an_endpoint_created_again_under_its_name_gets_a_new_url(
    hf_api: HfApi, emulator: Emulator
) -> None:
    """As on the real service, whose URLs are new for each endpoint made: a replacement (delete,
    then create under the same name) moves the URL, and the old one no longer answers."""
    create(hf_api)
    emulator.advance(TO_RUNNING + 5)
    first = hf_api.get_inference_endpoint("ep", namespace="demo").url
    hf_api.delete_inference_endpoint("ep", namespace="demo")
    emulator.advance(DELETE_GRACE + 1)
    create(hf_api)
    emulator.advance(TO_RUNNING + 5)
    second = hf_api.get_inference_endpoint("ep", namespace="demo").url
    assert first == f"{emulator.url}/endpoints/demo/ep"
    assert second == f"{emulator.url}/endpoints/demo/ep~2"
    assert call("POST", second, {"inputs": "x"}).status == 200
    assert call("POST", first, {"inputs": "x"}).status == 404
