"""From a spec to the API-level configuration create and update send.

Owns the engine table (which `model.image` variant an engine is, and its default image), the
snake_case -> camelCase mapping of engine options, and the rule for updates: declared values
win, everything the spec does not declare is carried over from the live endpoint, because the
API replaces `model.image`, `env`, `command` and `args` whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from provisioner.hub.models import Config, Image, PrivateLink
from provisioner.plan import ownership
from provisioner.spec.emit import effective
from provisioner.spec.model import EndpointSpec, Engine


@dataclass(frozen=True)
class EngineImage:
    variant: str
    url: str | None
    port: int | None = None
    health_route: str | None = None
    gpu_url: str | None = None


# The image each engine runs when the spec gives no `image.url`. Used at create time only:
# an existing endpoint keeps its image unless the spec declares one, so a newer default in a
# provisioner release never shows up as a change.
ENGINES: Mapping[Engine, EngineImage] = MappingProxyType(
    {
        Engine.DEFAULT: EngineImage("huggingface", None),
        Engine.TGI: EngineImage(
            "tgi", "ghcr.io/huggingface/text-generation-inference:3.3.6", 80, "/health"
        ),
        Engine.VLLM: EngineImage("vLLM", "vllm/vllm-openai:v0.11.0", 8000, "/health"),
        Engine.SGLANG: EngineImage("sGLang", "lmsysorg/sglang:v0.5.4", 30000, "/health"),
        Engine.TEI: EngineImage(
            "tei",
            "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8",
            80,
            "/health",
            gpu_url="ghcr.io/huggingface/text-embeddings-inference:1.8",
        ),
        Engine.LLAMACPP: EngineImage(
            "llamacpp",
            "ghcr.io/ggml-org/llama.cpp:server",
            8080,
            "/health",
            gpu_url="ghcr.io/ggml-org/llama.cpp:server-cuda",
        ),
        Engine.CUSTOM: EngineImage("custom", None, 80, "/health"),
    }
)

METRICS = MappingProxyType(
    {"pending_requests": "pendingRequests", "hardware_usage": "hardwareUsage"}
)
METRICS_BACK = MappingProxyType({v: k for k, v in METRICS.items()})


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def declared_image_fields(spec: EndpointSpec) -> list[tuple[str, str, Any]]:
    """Every image setting the spec declares: (its name under `model.`, the API's key, value)."""
    fields: list[tuple[str, str, Any]] = []
    image = spec.model.image
    if image is not None:
        for key, api_key, value in (
            ("image.url", "url", image.url),
            ("image.port", "port", image.port),
            ("image.health_route", "healthRoute", image.health_route),
        ):
            if value is not None:
                fields.append((key, api_key, value))
    for option, value in spec.model.engine_options.items():
        fields.append((f"engine_options.{option}", camel(option), value))
    return fields


def declared_image(spec: EndpointSpec) -> dict[str, Any]:
    """The image fields the spec declares, keyed as the API names them (camelCase)."""
    return {api_key: value for _, api_key, value in declared_image_fields(spec)}


def default_image(spec: EndpointSpec) -> Image:
    engine = ENGINES[spec.model.engine]
    fields: dict[str, Any] = {}
    url = engine.gpu_url if engine.gpu_url and spec.compute.accelerator == "gpu" else engine.url
    for key, value in (
        ("url", url),
        ("port", engine.port),
        ("healthRoute", engine.health_route),
    ):
        if value is not None:
            fields[key] = value
    fields.update(declared_image(spec))
    return Image(engine.variant, fields)


def applied_digest(spec: EndpointSpec) -> str:
    """Digest of everything the spec declares (secret values are not part of a spec)."""
    return ownership.digest(effective(spec))


def _tags(spec: EndpointSpec, user: tuple[str, ...], *, stack: str) -> tuple[str, ...]:
    return ownership.tags_for(
        user, stack=stack, protected=spec.protect, applied=applied_digest(spec)
    )


def _scaling(spec: EndpointSpec) -> dict[str, Any]:
    scaling = spec.scaling
    metric = None if scaling.metric is None else METRICS[scaling.metric.value]
    return {
        "min_replica": scaling.min_replicas,
        "max_replica": scaling.max_replicas,
        # Only meaningful with min 0; otherwise it is cleared (the schema forbids declaring it).
        "scale_to_zero_timeout": scaling.scale_to_zero_timeout
        if scaling.min_replicas == 0
        else None,
        "metric": metric,
        "threshold": scaling.threshold,
    }


def _private_link(spec: EndpointSpec) -> PrivateLink | None:
    link = spec.private_link
    return None if link is None else PrivateLink(link.account_id, link.region)


def create_config(spec: EndpointSpec, *, stack: str) -> Config:
    model = spec.model
    return Config(
        repository=model.repository,
        framework=model.framework,
        image=default_image(spec),
        vendor=spec.compute.vendor,
        region=spec.compute.region,
        accelerator=spec.compute.accelerator,
        instance_type=spec.compute.instance_type,
        instance_size=spec.compute.instance_size,
        type=spec.type.value,
        revision=model.revision,
        task=model.task,
        env=dict(model.env or {}),
        secret_keys=frozenset(model.secrets or {}),
        command=model.command,
        args=model.args,
        private_link=_private_link(spec),
        route_domain=None if spec.route is None else spec.route.domain,
        route_path=None if spec.route is None else spec.route.path,
        cache_http_responses=spec.cache_http_responses,
        tags=_tags(spec, tuple(sorted(spec.tags or ())), stack=stack),
        **_scaling(spec),
    )


def update_config(spec: EndpointSpec, live: Config, *, stack: str) -> Config:
    """The complete configuration an update sends: declared values over the live ones."""
    model = spec.model
    variant = ENGINES[model.engine].variant
    if live.image.variant == variant:
        image = Image(
            variant, {**live.image.fields, **declared_image(spec)}, live.image.has_credentials
        )
    else:
        image = default_image(spec)
    scaling = _scaling(spec)
    if spec.scaling.metric is None:
        scaling["metric"], scaling["threshold"] = live.metric, live.threshold
    elif spec.scaling.threshold is None:
        scaling["threshold"] = live.threshold if live.metric == scaling["metric"] else None
    user = tuple(sorted(spec.tags)) if spec.tags is not None else ownership.user_tags(live.tags)
    route = spec.route
    return replace(
        live,
        repository=model.repository,
        framework=model.framework,
        image=image,
        accelerator=spec.compute.accelerator,
        instance_type=spec.compute.instance_type,
        instance_size=spec.compute.instance_size,
        type=spec.type.value,
        revision=model.revision if model.revision is not None else live.revision,
        task=model.task if model.task is not None else live.task,
        env=dict(model.env) if model.env is not None else live.env,
        secret_keys=frozenset(model.secrets) if model.secrets is not None else live.secret_keys,
        command=model.command if model.command is not None else live.command,
        args=model.args if model.args is not None else live.args,
        route_domain=route.domain if route and route.domain is not None else live.route_domain,
        route_path=route.path if route and route.path is not None else live.route_path,
        cache_http_responses=spec.cache_http_responses
        if spec.cache_http_responses is not None
        else live.cache_http_responses,
        tags=_tags(spec, user, stack=stack),
        **scaling,
    )
