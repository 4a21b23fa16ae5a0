"""PUT semantics: sparse merge, whole-field replacement, null resets, immutable fields, secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError

from provisioner.emulator import Emulator
from tests.support.hub import TO_RUNNING, create
from tests.support.raw_http import call


def put(emulator: Emulator, payload: dict[str, Any], name: str = "ep") -> Any:
    reply = call("PUT", f"{emulator.url}/v2/endpoint/demo/{name}", payload)
    assert reply.status == 200, reply.text
    return reply.json()


def test_absent_fields_keep_their_value(hf_api: HfApi) -> None:
    create(
        hf_api,
        task="text-classification",
        env={"A": "1"},
        secrets={"S": "x"},
        tags=["t"],
        custom_image={"url": "ghcr.io/me/app:1"},
    )
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", min_replica=0, max_replica=2)
    model = ep.raw["model"]
    assert ep.raw["compute"]["scaling"]["minReplica"] == 0
    assert ep.raw["compute"]["scaling"]["maxReplica"] == 2
    assert model["task"] == "text-classification"
    assert model["env"]["A"] == "1"
    assert model["secrets"] == {"S": "configured"}
    assert model["image"]["custom"]["url"] == "ghcr.io/me/app:1"
    assert ep.raw["tags"] == ["t"]


def test_env_is_replaced_whole_and_an_empty_map_clears_it(hf_api: HfApi) -> None:
    create(hf_api, env={"A": "1", "B": "2"})
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", env={"C": "3"})
    assert ep.raw["model"]["env"] == {"C": "3"}  # as stored: no injected HF_TOKEN by default
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", env={})
    assert ep.raw["model"]["env"] == {}


def test_an_injected_hf_token_is_shown_only_when_configured(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    api = hub_for(make_emulator(inject_hf_token=True))
    create(api, env={"A": "1"})
    assert api.get_inference_endpoint("ep", namespace="demo").raw["model"]["env"] == {
        "A": "1",
        "HF_TOKEN": "***",
    }
    ep = api.update_inference_endpoint("ep", namespace="demo", env={"HF_TOKEN": "hf_mine"})
    assert ep.raw["model"]["env"] == {"HF_TOKEN": "hf_mine"}  # a user-set one is shown instead


def test_secrets_are_left_out_of_responses_only_when_configured(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    api = hub_for(make_emulator(omit_secrets=True))
    created = create(api, secrets={"K": "value-1234"})
    listed = api.list_inference_endpoints(namespace="demo")
    updated = api.update_inference_endpoint("ep", namespace="demo", secrets={"L": "value-5678"})
    for raw in (created.raw, listed[0].raw, updated.raw):
        assert "secrets" not in raw["model"]
    normal = hub_for(make_emulator())
    assert create(normal, secrets={"K": "value-1234"}).raw["model"]["secrets"] == {
        "K": "configured"
    }


def test_authenticated_is_answered_as_the_legacy_protected_only_when_configured(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    legacy = make_emulator(legacy_protected=True)
    api = hub_for(legacy)
    created = create(api, type="authenticated")
    create(api, "open", type="public")
    listed = {ep.name: ep.raw["type"] for ep in api.list_inference_endpoints(namespace="demo")}
    fetched = api.get_inference_endpoint("ep", namespace="demo").raw["type"]
    assert created.raw["type"] == fetched == listed["ep"] == "protected"
    assert listed["open"] == "public"  # only the renamed type is answered by its old name
    assert put(legacy, {"type": "authenticated"}, name="open")["type"] == "protected"
    normal = hub_for(make_emulator())
    assert create(normal, type="authenticated").raw["type"] == "authenticated"


def test_command_and_args_are_replaced_and_an_empty_list_clears_them(hf_api: HfApi) -> None:
    create(hf_api, container_command=["python", "-m", "app"], container_args=["--a", "1"])
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", container_args=["--b"])
    assert ep.raw["model"]["args"] == ["--b"]
    assert ep.raw["model"]["command"] == ["python", "-m", "app"]
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", container_args=[])
    assert ep.raw["model"]["args"] == []


def test_image_is_replaced_whole_and_a_partial_one_is_400(hf_api: HfApi) -> None:
    create(hf_api, custom_image={"tgi": {"url": "ghcr.io/hf/tgi:3", "maxInputLength": 100}})
    ep = hf_api.update_inference_endpoint(
        "ep", namespace="demo", custom_image={"tgi": {"url": "ghcr.io/hf/tgi:4"}}
    )
    assert ep.raw["model"]["image"] == {
        "tgi": {
            "url": "ghcr.io/hf/tgi:4",
            "port": 80,
            "healthRoute": "/health",
            "disableCustomKernels": False,
        }
    }
    with pytest.raises(
        BadRequestError, match=r"VALIDATION_FAILED: model\.image\.tgi: missing field"
    ):
        hf_api.update_inference_endpoint("ep", namespace="demo", custom_image={"tgi": {"port": 1}})


def test_secrets_absent_are_kept_present_are_replaced_and_never_echoed(hf_api: HfApi) -> None:
    create(hf_api, secrets={"API_KEY": "s3cr3t-value", "OTHER": "v"})
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", max_replica=2)
    assert ep.raw["model"]["secrets"] == {"API_KEY": "configured", "OTHER": "configured"}
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", secrets={"NEW": "x"})
    assert ep.raw["model"]["secrets"] == {"NEW": "configured"}
    assert "s3cr3t-value" not in str(ep.raw)


def test_registry_credentials_come_back_redacted(hf_api: HfApi) -> None:
    ep = create(
        hf_api,
        custom_image={"url": "registry.example.com/app:1"},
        container_registry_username="robot",
        container_registry_password="hunter2",
    )
    assert ep.raw["model"]["image"]["custom"]["credentials"] == {"username": "", "password": None}
    assert "hunter2" not in str(ep.raw)
    # ...which is why the client refuses to round-trip such an image for parallelism updates.
    with pytest.raises(ValueError, match="registry credentials"):
        hf_api.update_inference_endpoint("ep", namespace="demo", tensor_parallel_size=2)


def test_parallelism_update_round_trips_the_current_image(hf_api: HfApi) -> None:
    create(
        hf_api,
        accelerator="gpu",
        instance_type="nvidia-l4",
        instance_size="x4",
        custom_image={"vLLM": {"url": "vllm/vllm-openai:v0.23.0", "tensorParallelSize": 4}},
    )
    ep = hf_api.update_inference_endpoint(
        "ep", namespace="demo", tensor_parallel_size=2, data_parallel_size=2
    )
    image = ep.raw["model"]["image"]["vLLM"]
    assert (image["tensorParallelSize"], image["dataParallelSize"]) == (2, 2)
    assert image["url"] == "vllm/vllm-openai:v0.23.0"


def test_null_resets_a_field_to_its_default(hf_api: HfApi, emulator: Emulator) -> None:
    create(
        hf_api,
        min_replica=0,
        scale_to_zero_timeout=30,
        tags=["a"],
        revision="abc",
        env={"A": "1"},
        container_args=["--x"],
        scaling_metric="pendingRequests",
        scaling_threshold=2.0,
    )
    default_revision = create(hf_api, "ref").revision
    doc = put(
        emulator,
        {
            "compute": {"scaling": {"scaleToZeroTimeout": None, "measure": None}},
            "model": {"revision": None, "env": None, "args": None, "image": None},
            "tags": None,
        },
    )
    scaling = doc["compute"]["scaling"]
    assert scaling["scaleToZeroTimeout"] is None
    assert (scaling["metric"], scaling["measure"]) == ("hardwareUsage", {"hardwareUsage": None})
    assert doc["model"]["revision"] == default_revision
    assert doc["model"]["env"] == {}
    assert "args" not in doc["model"]
    assert doc["model"]["image"] == {"huggingface": {}}
    assert doc["tags"] == []


def test_task_null_in_a_put_is_rejected_like_on_create(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    reply = call("PUT", f"{emulator.url}/v2/endpoint/demo/ep", {"model": {"task": None}})
    assert reply.status == 400
    assert reply.text.startswith("Failed to parse the request body as JSON: model.task: expected")


def test_type_can_be_updated(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    assert put(emulator, {"type": "public"})["type"] == "public"
    assert put(emulator, {"type": "protected"})["type"] == "private"


def test_name_and_provider_cannot_change_but_resending_them_is_fine(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    same = put(emulator, {"name": "ep", "provider": {"vendor": "aws", "region": "us-east-1"}})
    assert same["name"] == "ep"
    for payload, field in (
        ({"name": "renamed"}, "'name'"),
        ({"provider": {"vendor": "aws", "region": "eu-west-1"}}, "'provider.region'"),
        ({"provider": {"vendor": "gcp", "region": "us-east-1"}}, "'provider.vendor'"),
    ):
        reply = call("PUT", f"{emulator.url}/v2/endpoint/demo/ep", payload)
        assert reply.status == 400
        assert f"Bad Request: Field {field} cannot be updated" in reply.json()["error"]
        assert "create a new endpoint" in reply.json()["error"]


def test_tags_only_update_does_not_redeploy_other_changes_do(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api, tags=["a"])
    emulator.advance(TO_RUNNING)
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", tags=["b", "c"])
    assert ep.status == "running" and ep.raw["tags"] == ["b", "c"]
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", tags=["b", "c"], max_replica=2)
    assert ep.status == "updating"


def test_changing_the_repository_re_resolves_an_unpinned_revision(hf_api: HfApi) -> None:
    first = create(hf_api, "a").revision
    create(hf_api, "b", revision="pinned")
    ep = hf_api.update_inference_endpoint("a", namespace="demo", repository="distilgpt2")
    assert ep.revision != first and len(ep.revision) == 40
    ep = hf_api.update_inference_endpoint("b", namespace="demo", repository="distilgpt2")
    assert ep.revision == "pinned"


def test_hardware_change_is_validated(hf_api: HfApi) -> None:
    create(hf_api)
    ep = hf_api.update_inference_endpoint("ep", namespace="demo", instance_size="x4")
    assert ep.raw["compute"]["id"] == "aws-us-east-1-intel-spr-x4"
    with pytest.raises(BadRequestError, match="Instance compute 'Cpu' - 'intel-spr' - 'x64'"):
        hf_api.update_inference_endpoint("ep", namespace="demo", instance_size="x64")
    with pytest.raises(BadRequestError, match="Compute instance not available yet"):
        hf_api.update_inference_endpoint("ep", namespace="demo", instance_type="intel-icl")


def test_empty_put_changes_nothing(hf_api: HfApi, emulator: Emulator) -> None:
    before = create(hf_api).raw
    after = put(emulator, {})
    assert after["model"] == before["model"] and after["compute"] == before["compute"]
    assert after["status"]["state"] == "pending"
