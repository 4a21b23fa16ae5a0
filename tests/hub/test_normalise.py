"""Raw API JSON (shapes from the reference's captured fixtures) -> normalised values."""

from __future__ import annotations

from provisioner.hub.models import Config, EndpointState, Image
from provisioner.hub.normalise import endpoint_from_raw, update_body

# tests/test_hf_api.py::test_create_inference_endpoint_from_catalog in huggingface_hub.
CATALOG = {
    "compute": {
        "accelerator": "gpu",
        "id": "aws-us-east-1-nvidia-l4-x1",
        "instanceSize": "x1",
        "instanceType": "nvidia-l4",
        "scaling": {
            "maxReplica": 1,
            "measure": {"hardwareUsage": None},
            "metric": "hardwareUsage",
            "minReplica": 0,
            "scaleToZeroTimeout": 15,
        },
    },
    "model": {
        "env": {"HF_TOKEN": "injected", "A": "1"},
        "framework": "pytorch",
        "image": {
            "tgi": {
                "disableCustomKernels": False,
                "healthRoute": "/health",
                "port": 80,
                "url": "ghcr.io/huggingface/text-generation-inference:3.1.1",
            }
        },
        "repository": "meta-llama/Llama-3.2-3B-Instruct",
        "revision": "0cb88a4f764b7a12671c53f0838cd831a0843b95",
        "secrets": {"API_KEY": "***"},
        "task": "text-generation",
    },
    "name": "llama-3-2-3b-instruct-eey",
    "provider": {"region": "us-east-1", "vendor": "aws"},
    "healthRoute": "/health",
    "tags": ["b", "provisioner.stack=x", "a"],
    "status": {
        "createdAt": "2025-03-07T15:30:13.949Z",
        "message": "Endpoint waiting to be scheduled",
        "readyReplica": 0,
        "state": "pending",
        "targetReplica": 1,
        "updatedAt": "2025-03-07T15:30:13.949Z",
    },
    "type": "protected",
}


def test_catalog_object_normalises() -> None:
    endpoint = endpoint_from_raw(CATALOG, "acme")
    config = endpoint.config
    assert endpoint.address == "acme/llama-3-2-3b-instruct-eey"
    assert endpoint.state is EndpointState.PENDING
    assert endpoint.url is None
    # Read as it is: the planner, not the reader, decides what to compare (HF_TOKEN is kept).
    assert config.env == {"HF_TOKEN": "injected", "A": "1"}
    assert config.secret_keys == frozenset({"API_KEY"})
    assert config.tags == ("a", "b", "provisioner.stack=x")
    assert config.image.variant == "tgi"
    assert config.image.fields["port"] == 80
    assert (config.metric, config.threshold) == ("hardwareUsage", None)
    assert (config.vendor, config.region, config.instance_type) == ("aws", "us-east-1", "nvidia-l4")


def test_secret_names_left_out_of_a_response_are_unknown_not_none() -> None:
    """Whether the service echoes `model.secrets` is unknown: a response without it (or with
    null) says nothing about the secrets, while `{}` says there are none."""
    model = {k: v for k, v in CATALOG["model"].items() if k != "secrets"}  # type: ignore[attr-defined]
    assert endpoint_from_raw({**CATALOG, "model": model}, "acme").config.secret_keys is None
    nulled = {**model, "secrets": None}
    assert endpoint_from_raw({**CATALOG, "model": nulled}, "acme").config.secret_keys is None
    empty = {**model, "secrets": {}}
    assert endpoint_from_raw({**CATALOG, "model": empty}, "acme").config.secret_keys == frozenset()


def test_unknown_state_and_credentials() -> None:
    raw = {
        **CATALOG,
        "status": {**CATALOG["status"], "state": "brandNewState"},  # type: ignore[dict-item]
        "model": {
            **CATALOG["model"],  # type: ignore[dict-item]
            "image": {"custom": {"url": "x", "credentials": {"username": "", "password": None}}},
        },
    }
    endpoint = endpoint_from_raw(raw, "acme")
    assert endpoint.state is EndpointState.UNKNOWN
    assert endpoint.config.image == Image("custom", {"url": "x"}, has_credentials=True)


def _config() -> Config:
    return Config(
        repository="gpt2",
        framework="pytorch",
        image=Image("huggingface"),
        vendor="aws",
        region="us-east-1",
        accelerator="cpu",
        instance_type="intel-spr",
        instance_size="x2",
        min_replica=1,
        max_replica=2,
        type="authenticated",
        env={"A": "1"},
        tags=("t",),
    )


def test_update_body_sends_only_what_changed_and_never_null() -> None:
    config = _config()
    assert update_body(config, None, fields=["tags"]) == {"tags": ["t"]}
    body = update_body(config, None, fields=["max_replica", "scale_to_zero_timeout", "env"])
    # Grouped under its parents; an unset timeout is left out, never sent as null (a reset).
    assert body == {"compute": {"scaling": {"maxReplica": 2}}, "model": {"env": {"A": "1"}}}
    assert update_body(config, None, fields=["image"]) == {"model": {"image": {"huggingface": {}}}}
    # Secrets only when given: absent keeps the endpoint's secrets.
    assert update_body(config, {"K": "v"}, fields=[]) == {"model": {"secrets": {"K": "v"}}}
    assert update_body(config, None, fields=["vendor", "region"]) == {}  # replacement only


def _scaling(**scaling: object) -> dict[str, object]:
    compute = {**CATALOG["compute"], "scaling": scaling}  # type: ignore[dict-item]
    return {**CATALOG, "compute": compute}


def test_a_threshold_the_service_sends_as_an_integer_is_read() -> None:
    """Older answers carry `metric` and `threshold` beside each other, and JSON has no float
    type: `80` is as much a threshold as `80.0`."""
    config = endpoint_from_raw(_scaling(metric="hardwareUsage", threshold=80), "acme").config
    assert (config.metric, config.threshold) == ("hardwareUsage", 80.0)
    measured = endpoint_from_raw(_scaling(measure={"pendingRequests": 3}), "acme").config
    assert (measured.metric, measured.threshold) == ("pendingRequests", 3.0)


def test_a_measure_that_is_not_an_object_falls_back_to_metric_and_threshold() -> None:
    raw = _scaling(measure=["hardwareUsage"], metric="hardwareUsage", threshold=70)
    config = endpoint_from_raw(raw, "acme").config
    assert (config.metric, config.threshold) == ("hardwareUsage", 70.0)


def test_an_empty_private_link_account_is_no_private_link() -> None:
    """The service may answer `privateService` with its keys empty for a public endpoint."""
    raw = {**CATALOG, "privateService": {"accountId": "", "region": None}}
    assert endpoint_from_raw(raw, "acme").config.private_link is None
    linked = {**CATALOG, "privateService": {"accountId": "123456789012", "region": "us-east-1"}}
    link = endpoint_from_raw(linked, "acme").config.private_link
    assert link is not None and (link.account_id, link.region) == ("123456789012", "us-east-1")


def test_removing_every_secret_is_sent_as_an_empty_object() -> None:
    """`{}` is not `None`: it says the endpoint should have no secrets left (absent, it would
    keep its last one and the plan would never converge)."""
    assert update_body(_config(), {}, fields=[]) == {"model": {"secrets": {}}}
    assert update_body(_config(), None, fields=[]) == {}


def test_a_token_in_a_service_message_is_blanked_when_read() -> None:
    status = {**CATALOG["status"], "message": "pull failed\nwith hf_" + "Q" * 30}  # type: ignore[dict-item]
    assert endpoint_from_raw({**CATALOG, "status": status}, "acme").message == (
        "pull failed with hf_***"
    )


def test_an_endpoint_without_an_image_runs_the_default_huggingface_image() -> None:
    model = {k: v for k, v in CATALOG["model"].items() if k != "image"}  # type: ignore[attr-defined]
    config = endpoint_from_raw({**CATALOG, "model": model}, "acme").config
    assert config.image == Image("huggingface")


def test_a_metric_or_threshold_of_the_wrong_type_is_unknown() -> None:
    config = endpoint_from_raw(_scaling(metric=5, threshold="high"), "acme").config
    assert (config.metric, config.threshold) == (None, None)


def test_command_and_args_are_read_as_lists_of_strings() -> None:
    model = {**CATALOG["model"], "command": ["python", "-m", "serve"], "args": ["--port", 80]}  # type: ignore[dict-item]
    config = endpoint_from_raw({**CATALOG, "model": model}, "acme").config
    assert (config.command, config.args) == (("python", "-m", "serve"), ("--port", "80"))
    assert (endpoint_from_raw(CATALOG, "acme").config.command) is None


def test_a_value_the_service_moved_is_read_from_either_place() -> None:
    """`cacheHttpResponses` is answered at the top level or under `experimentalFeatures`."""
    nested = {**CATALOG, "experimentalFeatures": {"cacheHttpResponses": True}}
    assert endpoint_from_raw(nested, "acme").config.cache_http_responses is True
    top = {**CATALOG, "cacheHttpResponses": False}
    assert endpoint_from_raw(top, "acme").config.cache_http_responses is False


def test_a_failure_answered_as_error_message_is_the_endpoints_message() -> None:
    """Some answers carry a failure under `errorMessage` instead of `message`; with neither,
    there is no message (never the text "None")."""
    state = {"state": "failed", "errorMessage": "CUDA out of memory"}
    assert endpoint_from_raw({**CATALOG, "status": state}, "acme").message == "CUDA out of memory"
    assert endpoint_from_raw({**CATALOG, "status": {"state": "failed"}}, "acme").message == ""


def test_an_endpoint_without_a_health_route_is_probed_at_health() -> None:
    raw = {k: v for k, v in CATALOG.items() if k != "healthRoute"}
    assert endpoint_from_raw(raw, "acme").health_route == "/health"
