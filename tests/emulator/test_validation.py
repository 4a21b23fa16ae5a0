"""Validation errors: status codes and message styles of the real service (reference section 6).

Each error is reproduced through the real client where it can send the payload, and checked raw
(status, content type, exact body) over urllib.
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from provisioner.emulator import Emulator
from tests.support.hub import create
from tests.support.raw_http import call


def body(**overrides: Any) -> dict[str, Any]:
    """A create body exactly as huggingface_hub 2.4.0 sends it (reference section 1.3)."""
    out: dict[str, Any] = {
        "compute": {
            "accelerator": "cpu",
            "instanceSize": "x2",
            "instanceType": "intel-spr",
            "scaling": {"maxReplica": 1, "minReplica": 1, "scaleToZeroTimeout": None},
        },
        "model": {
            "framework": "pytorch",
            "repository": "gpt2",
            "revision": None,
            "image": {"huggingface": {}},
            "task": "text-generation",
        },
        "name": "my-ep",
        "provider": {"region": "us-east-1", "vendor": "aws"},
        "type": "authenticated",
    }
    out.update(overrides)
    return out


def status_of(err: pytest.ExceptionInfo[HfHubHTTPError]) -> int:
    return err.value.response.status_code


@pytest.mark.parametrize(
    "name", ["My-Ep", "my_ep", "my.ep", "-ep", "ep-", "1ep", "a" * 33, ""], ids=repr
)
def test_names_outside_the_rule_are_422(hf_api: HfApi, name: str) -> None:
    with pytest.raises(HfHubHTTPError) as err:
        create(hf_api, name)
    assert status_of(err) == 422
    assert "Failed to deserialize the JSON body into the target type: name: invalid value" in str(
        err.value
    )
    assert "32 characters maximum" in str(err.value)


def test_a_32_character_name_is_accepted(hf_api: HfApi) -> None:
    assert create(hf_api, "a" * 30 + "-1").name == "a" * 30 + "-1"


def test_unknown_hardware_combination_is_400_instance_compute_not_found(hf_api: HfApi) -> None:
    with pytest.raises(BadRequestError) as err:
        create(hf_api, instance_type="c6i", instance_size="medium")
    assert (
        "Bad Request: Instance compute 'Cpu' - 'c6i' - 'medium' in 'aws' - 'us-east-1' not found"
        in str(err.value)
    )
    with pytest.raises(BadRequestError, match="Instance compute 'Gpu' - 'nvidia-t4' - 'x1' in"):
        create(
            hf_api,
            accelerator="gpu",
            instance_type="nvidia-t4",
            instance_size="x1",
            region="eu-west-2",
        )


@pytest.mark.parametrize(
    ("itype", "size", "accel", "status"),
    [("intel-icl", "x2", "cpu", "deprecated"), ("nvidia-l40s", "x8", "gpu", "not available")],
)
def test_undeployable_hardware_is_400_not_available_yet(
    hf_api: HfApi, itype: str, size: str, accel: str, status: str
) -> None:
    with pytest.raises(BadRequestError) as err:
        create(hf_api, accelerator=accel, instance_type=itype, instance_size=size)
    assert "Bad Request: Compute instance not available yet" in str(err.value)
    assert status in str(err.value)


def test_duplicate_name_is_409(hf_api: HfApi) -> None:
    create(hf_api)
    with pytest.raises(HfHubHTTPError) as err:
        create(hf_api)
    assert status_of(err) == 409
    assert "Conflict: Endpoint 'ep' already exists" in str(err.value)
    create(hf_api, namespace="acme")  # names are per namespace


def test_quota_exceeded_is_409_conflict_quota_exceeded(hf_api: HfApi) -> None:
    # aws nvidia-a100 default quota: 8 accelerators; x4 with 2 replicas takes all of it.
    gpu = {"accelerator": "gpu", "instance_type": "nvidia-a100", "instance_size": "x4"}
    create(hf_api, "big", max_replica=2, **gpu)
    with pytest.raises(HfHubHTTPError) as err:
        create(hf_api, "one-more", **gpu)
    assert status_of(err) == 409
    assert "Conflict: Quota exceeded" in str(err.value)


def test_unparsable_body_is_400_plain_text(emulator: Emulator) -> None:
    reply = call("POST", f"{emulator.url}/v2/endpoint/demo", raw=b'{"name": "x",')
    assert reply.status == 400
    assert reply.content_type.startswith("text/plain")
    assert reply.text.startswith("Failed to parse the request body as JSON: ")
    assert reply.text.endswith("at line 1 column 13")
    reply = call("POST", f"{emulator.url}/v2/endpoint/demo", raw=b"{not json}")
    assert (
        reply.text
        == "Failed to parse the request body as JSON: key must be a string at line 1 column 2"
    )


def test_task_null_is_rejected_as_a_parse_error(emulator: Emulator) -> None:
    payload = body()
    payload["model"]["task"] = None
    text = json.dumps(payload)
    reply = call("POST", f"{emulator.url}/v2/endpoint/demo", raw=text.encode())
    assert reply.status == 400 and reply.content_type.startswith("text/plain")
    column = text.index('"task": null') + len('"task": null')
    assert reply.text == (
        "Failed to parse the request body as JSON: model.task: expected value "
        f"at line 1 column {column}"
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda b: b["compute"]["scaling"].update(minReplica="one"),
            'compute.scaling.minReplica: invalid type: string "one", expected u32',
        ),
        (
            lambda b: b["compute"]["scaling"].update(maxReplica=-1),
            "compute.scaling.maxReplica: invalid value: integer `-1`, expected u32",
        ),
        (lambda b: b["model"].update(env={"A": 1}), "model.env.A: invalid type: integer `1`"),
        (lambda b: b.update(tags="dev"), 'tags: invalid type: string "dev", expected a sequence'),
        (lambda b: b["compute"].pop("instanceSize"), "compute: missing field `instanceSize`"),
        (lambda b: b.pop("provider"), "missing field `provider`"),
        (
            lambda b: b.update(type="secret"),
            "type: unknown variant `secret`, expected one of `public`, `authenticated`, `private`",
        ),
        (
            lambda b: b["compute"].update(accelerator="tpu"),
            "compute.accelerator: unknown variant `tpu`",
        ),
    ],
    ids=[
        "string-for-u32",
        "negative",
        "env-int",
        "tags-str",
        "missing-nested",
        "missing-top",
        "type",
        "accelerator",
    ],
)
def test_wrong_types_and_missing_fields_are_422_plain_text_with_a_path(
    emulator: Emulator, mutate: Any, expected: str
) -> None:
    payload = body()
    mutate(payload)
    reply = call("POST", f"{emulator.url}/v2/endpoint/demo", payload)
    assert reply.status == 422
    assert reply.content_type.startswith("text/plain")
    prefix = "Failed to deserialize the JSON body into the target type: "
    assert reply.text.startswith(prefix + expected)
    assert " at line 1 column " in reply.text


def test_image_variant_without_url_is_400_validation_failed(hf_api: HfApi) -> None:
    with pytest.raises(BadRequestError) as err:
        create(hf_api, custom_image={"vLLM": {"port": 8000}})
    assert "VALIDATION_FAILED: model.image.vLLM: missing field `url`" in str(err.value)


def test_unknown_image_variant_is_400_validation_failed(hf_api: HfApi) -> None:
    with pytest.raises(BadRequestError, match=r"model.image: unknown variant `vllm`"):
        create(hf_api, custom_image={"vllm": {"url": "vllm/vllm-openai:v0.23.0"}})


def test_unknown_fields_inside_a_variant_are_dropped_and_defaults_filled(hf_api: HfApi) -> None:
    ep = create(
        hf_api,
        accelerator="gpu",
        instance_type="nvidia-l4",
        instance_size="x1",
        custom_image={
            "vLLM": {
                "url": "vllm/vllm-openai:v0.23.0",
                "maxModelLen": 4096,
                "noSuchKnob": True,
                "health_route": "/x",
            }
        },
    )
    assert ep.raw["model"]["image"] == {
        "vLLM": {
            "url": "vllm/vllm-openai:v0.23.0",
            "maxModelLen": 4096,
            "port": 8000,
            "healthRoute": "/health",
        }
    }


def test_custom_image_health_route_becomes_the_endpoint_health_route(hf_api: HfApi) -> None:
    ep = create(hf_api, custom_image={"url": "ghcr.io/me/app:1", "healthRoute": "/ping", "port": 9})
    assert ep.health_route == "/ping"
    assert ep.raw["model"]["image"] == {
        "custom": {"url": "ghcr.io/me/app:1", "healthRoute": "/ping", "port": 9}
    }


def test_protected_type_is_coerced_to_private(emulator: Emulator) -> None:
    reply = call("POST", f"{emulator.url}/v2/endpoint/demo", body(type="protected"))
    assert reply.status == 200
    assert reply.json()["type"] == "private"


def test_vllm_on_several_accelerators_needs_parallelism(hf_api: HfApi) -> None:
    gpu4 = {"accelerator": "gpu", "instance_type": "nvidia-l4", "instance_size": "x4"}
    image = {"vLLM": {"url": "vllm/vllm-openai:v0.23.0"}}
    with pytest.raises(
        BadRequestError,
        match=r"VALIDATION_FAILED: model\.image\.vLLM: tensorParallelSize or dataParallelSize",
    ):
        create(hf_api, custom_image=image, **gpu4)
    image = {"vLLM": {"url": "vllm/vllm-openai:v0.23.0", "tensorParallelSize": 4}}
    assert create(hf_api, custom_image=image, **gpu4).status == "pending"


def test_min_replica_above_max_replica_is_400(hf_api: HfApi) -> None:
    with pytest.raises(BadRequestError, match=r"VALIDATION_FAILED: compute\.scaling: minReplica"):
        create(hf_api, min_replica=3, max_replica=1)


def test_create_without_a_json_content_type_is_415(emulator: Emulator) -> None:
    reply = call(
        "POST",
        f"{emulator.url}/v2/endpoint/demo",
        raw=json.dumps(body()).encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert reply.status == 415
    assert reply.text == "Expected request with `Content-Type: application/json`"


def test_unknown_endpoint_is_404_with_the_recorded_body(emulator: Emulator) -> None:
    reply = call("GET", f"{emulator.url}/v2/endpoint/demo/nope")
    assert reply.status == 404
    assert reply.json() == {"error": "Endpoint 'nope' not found"}
    for action in ("pause", "resume", "scale-to-zero"):
        assert call("POST", f"{emulator.url}/v2/endpoint/demo/nope/{action}").status == 404
    assert call("DELETE", f"{emulator.url}/v2/endpoint/demo/nope").status == 404


def test_wrong_method_is_405_with_allow(emulator: Emulator) -> None:
    reply = call("PATCH", f"{emulator.url}/v2/endpoint/demo/x", {})
    assert reply.status == 405
    assert reply.headers["allow"] == "GET, PUT, DELETE"
    assert call("GET", f"{emulator.url}/v2/endpoint/demo/x/pause").status == 405


def _raw(emulator: Emulator, method: str, path: str) -> tuple[int, str | None, str, Any]:
    """(status, Allow, Content-Type, JSON body) of `method path` over a bare connection."""
    host, port = emulator.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, headers={"Authorization": "Bearer hf_demo"})
        answer = conn.getresponse()
        return (
            answer.status,
            answer.getheader("Allow"),
            answer.getheader("Content-Type", ""),
            json.loads(answer.read()),
        )
    finally:
        conn.close()


@pytest.mark.parametrize("method", ["PATCH", "OPTIONS", "TRACE", "CONNECT", "BREW"])
def test_any_method_a_route_does_not_take_is_a_json_405_with_allow(
    hf_api: HfApi, emulator: Emulator, method: str
) -> None:
    """Not the standard library's HTML 501 for a method it has no handler for."""
    create(hf_api, type="public")
    emulator.advance(60)
    routes = {
        "/api/whoami-v2": "GET",
        "/api/models/gpt2": "GET",
        "/v2/provider/demo": "GET",
        "/v2/endpoint/demo": "GET, POST",
        "/v2/endpoint/demo/ep": "GET, PUT, DELETE",
        "/v2/endpoint/demo/ep/pause": "POST",
        "/admin/reset": "POST",
        "/endpoints/demo/ep": "POST",  # the endpoint's own URL
        "/endpoints/demo/ep/health": "GET",
    }
    for path, allowed in routes.items():
        status, allow, content_type, payload = _raw(emulator, method, path)
        assert (status, allow, content_type) == (405, allowed, "application/json"), path
        assert allowed in payload["error"], path
    status, _, content_type, payload = _raw(emulator, method, "/no/such/route")
    assert (status, content_type) == (404, "application/json")
    assert payload == {"error": f"Not Found: {method} /no/such/route"}


def test_a_malformed_request_line_is_answered_in_json(emulator: Emulator) -> None:
    host, port = emulator.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"NOT A REQUEST LINE AT ALL\r\n\r\n")
        head, _, rest = conn.makefile("rb").read().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"Content-Type: application/json" in head
    assert "Bad request" in json.loads(rest)["error"]


def test_handler_errors_are_json_with_an_error_key(emulator: Emulator) -> None:
    payload = body()
    payload["compute"]["instanceType"] = "c6i"
    reply = call("POST", f"{emulator.url}/v2/endpoint/demo", payload)
    assert reply.status == 400 and reply.content_type == "application/json"
    assert reply.json()["error"].startswith("Bad Request: Instance compute 'Cpu' - 'c6i'")
