"""Raw API JSON -> normalised values (`LiveEndpoint`, `Hardware`), and `Config` -> update body.

Normalising here is what keeps plans quiet: server-injected env vars are dropped, tags become a
sorted set, secrets become their key names, credentials a flag. Anything the service fills in
that the user did not declare is kept as-is; the planner decides what to compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner.hub.models import (
    Config,
    EndpointState,
    Image,
    LiveEndpoint,
    PrivateLink,
)
from provisioner.spec.model import SERVICE_ENV


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _image(raw: Any) -> Image:
    image = _map(raw)
    if not image:
        return Image("huggingface")
    variant, raw_fields = next(iter(image.items()))
    fields = dict(_map(raw_fields))
    has_credentials = fields.pop("credentials", None) is not None
    return Image(str(variant), fields, has_credentials)


def _strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _measure(scaling: Mapping[str, Any]) -> tuple[str | None, float | None]:
    measure = _map(scaling.get("measure"))
    for name, value in measure.items():
        return str(name), None if value is None else float(value)
    metric, threshold = scaling.get("metric"), scaling.get("threshold")
    return (metric if isinstance(metric, str) else None), (
        float(threshold) if isinstance(threshold, int | float) else None
    )


def config_from_raw(raw: Mapping[str, Any]) -> Config:
    model = _map(raw.get("model"))
    compute = _map(raw.get("compute"))
    scaling = _map(compute.get("scaling"))
    provider = _map(raw.get("provider"))
    private = _map(raw.get("privateService"))
    route = _map(raw.get("route"))
    metric, threshold = _measure(scaling)
    cache = raw.get("cacheHttpResponses")
    if cache is None:
        cache = _map(raw.get("experimentalFeatures")).get("cacheHttpResponses")
    env = {str(k): str(v) for k, v in _map(model.get("env")).items() if k not in SERVICE_ENV}
    return Config(
        repository=str(model.get("repository", "")),
        framework=str(model.get("framework", "")),
        image=_image(model.get("image")),
        vendor=str(provider.get("vendor", "")),
        region=str(provider.get("region", "")),
        accelerator=str(compute.get("accelerator", "")),
        instance_type=str(compute.get("instanceType", "")),
        instance_size=str(compute.get("instanceSize", "")),
        min_replica=int(scaling.get("minReplica") or 0),
        max_replica=int(scaling.get("maxReplica") or 0),
        type=str(raw.get("type", "")),
        revision=model.get("revision"),
        task=model.get("task"),
        env=env,
        secret_keys=frozenset(_map(model.get("secrets"))),
        command=_strings(model.get("command")),
        args=_strings(model.get("args")),
        scale_to_zero_timeout=scaling.get("scaleToZeroTimeout"),
        metric=metric,
        threshold=threshold,
        private_link=PrivateLink(str(private.get("accountId")), str(private.get("region")))
        if private.get("accountId")
        else None,
        route_domain=route.get("domain"),
        route_path=route.get("path"),
        cache_http_responses=cache if isinstance(cache, bool) else None,
        tags=tuple(sorted({str(t) for t in raw.get("tags") or ()})),
    )


def endpoint_from_raw(raw: Mapping[str, Any], namespace: str) -> LiveEndpoint:
    status = _map(raw.get("status"))
    state = str(status.get("state"))
    return LiveEndpoint(
        namespace=namespace,
        name=str(raw["name"]),
        config=config_from_raw(raw),
        state=EndpointState(state)
        if state in EndpointState._value2member_map_
        else EndpointState.UNKNOWN,
        message=str(status.get("message") or status.get("errorMessage") or ""),
        url=status.get("url"),
        health_route=str(raw.get("healthRoute") or "/health"),
        ready_replicas=int(status.get("readyReplica") or 0),
        target_replicas=int(status.get("targetReplica") or 0),
        created_at=str(status.get("createdAt", "")),
        updated_at=str(status.get("updatedAt", "")),
    )


def update_body(config: Config, secrets: Mapping[str, str] | None) -> dict[str, Any]:
    """The complete PUT body for `config`.

    The API replaces `model.image`, `model.env`, `command` and `args` whole, so they are always
    sent in full (except an image holding registry credentials, see below).
    `scaleToZeroTimeout` is sent as null when unset, which clears it (the client's
    `update_inference_endpoint` cannot express that, nor a change of `type`). Secrets are sent
    only when given: an absent `model.secrets` keeps the secrets the endpoint has.
    """
    scaling: dict[str, Any] = {
        "minReplica": config.min_replica,
        "maxReplica": config.max_replica,
        "scaleToZeroTimeout": config.scale_to_zero_timeout,
    }
    if config.metric is not None:
        scaling["measure"] = {config.metric: config.threshold}
    model: dict[str, Any] = {
        "repository": config.repository,
        "framework": config.framework,
        "env": dict(config.env),
    }
    if not config.image.has_credentials:
        # An image with registry credentials is left out: the API never returns them, so
        # sending the image back would wipe them. Absent, the endpoint keeps its image whole.
        model["image"] = config.image.payload()
    if config.revision is not None:
        model["revision"] = config.revision
    if config.task is not None:
        model["task"] = config.task
    if config.command is not None:
        model["command"] = list(config.command)
    if config.args is not None:
        model["args"] = list(config.args)
    if secrets is not None:
        model["secrets"] = dict(secrets)
    body: dict[str, Any] = {
        "compute": {
            "accelerator": config.accelerator,
            "instanceType": config.instance_type,
            "instanceSize": config.instance_size,
            "scaling": scaling,
        },
        "model": model,
        "type": config.type,
        "tags": list(config.tags),
    }
    route = {k: v for k, v in (("domain", config.route_domain), ("path", config.route_path)) if v}
    if route:
        body["route"] = route
    if config.cache_http_responses is not None:
        body["cacheHttpResponses"] = config.cache_http_responses
    return body
