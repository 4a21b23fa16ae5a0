"""From a spec to the API-level configuration create and update send.

Owns the engine table (which `model.image` variant an engine is, and its default image), the
snake_case -> camelCase mapping of engine options, and the rule for updates: declared values
win, everything the spec does not declare is carried over from the live endpoint, because the
API replaces `model.image`, `env`, `command` and `args` whole; replica counts of an endpoint that
must stay paused are carried over too, since counts >= 1 would resume it. Also what pausing and
resuming do to the counts (`paused_config`, `resumed_config`), so a plan can say what an update
that follows them will find.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from provisioner.hub.models import Config, Image, PrivateLink
from provisioner.plan import ownership
from provisioner.spec.emit import effective
from provisioner.spec.fields import FIELDS, Field, Flag, Mode, spec_value
from provisioner.spec.model import SERVICE_ENV, DesiredState, EndpointSpec, Engine


@dataclass(frozen=True)
class EngineImage:
    variant: str
    url: str | None
    port: int | None = None
    health_route: str | None = None
    gpu_url: str | None = None


# The `model.image` variant of each engine, and the image it runs when the spec gives no
# `image.url`. Used at create time only: an existing endpoint keeps its image unless the spec
# declares one, so a newer default in a provisioner release never shows up as a change. A `None`
# url on a container variant means no default is known: validate requires `image.url`
# (`spec.model.NEEDS_IMAGE_URL`). `keep` has no variant, so no row: it never builds an image.
ENGINES: Mapping[Engine, EngineImage] = MappingProxyType(
    {
        Engine.DEFAULT: EngineImage("huggingface", None),
        Engine.HUGGINGFACE_NEURON: EngineImage("huggingfaceNeuron", None),
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
        Engine.TGI_NEURON: EngineImage("tgiNeuron", None, 80, "/health"),
        Engine.VLLM_NEURON: EngineImage("vLLMNeuron", None, 8000, "/health"),
        Engine.HF_SERVE: EngineImage("hfServe", None, 80, "/health"),
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
    if spec.model.engine is Engine.KEEP:
        # The planner refuses to create with `keep` (see `create_refusal`).
        raise ValueError(f"engine keep has no image to create {spec.name} with")
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
    """Digest of everything the spec declares about the endpoint (secret values are not part
    of a spec; its smoke test and outputs are not part of the endpoint: adding one changes
    nothing live)."""
    declared = effective(spec)
    declared.pop("smoke", None)
    declared.pop("outputs", None)
    declared.pop("ignore_changes", None)
    return ownership.digest(declared)


@dataclass(frozen=True)
class Target:
    """What a spec is planned into besides itself: the stack it belongs to, and the commit its
    revision (or, when it declares none, the repository's default branch) resolved to at plan
    time. With no commit (a plan made without the Hub), the declared name is sent as it is."""

    stack: str
    commit: str | None = None
    # The digest the tags record, when it is not the spec's own: a scheduled spec is planned
    # as its schedule has it at `now`, but records the spec as written (`plan.schedule`).
    digest: str | None = None


def _tags(spec: EndpointSpec, user: tuple[str, ...], *, to: Target) -> tuple[str, ...]:
    applied = to.digest or applied_digest(spec)
    return ownership.tags_for(user, stack=to.stack, protected=spec.protect, applied=applied)


def declared(spec: EndpointSpec, row: Field) -> Any:
    """A plain field's declared value in API terms (None: not declared)."""
    value = spec_value(spec, row.spec)
    return value.value if isinstance(value, enum.Enum) else value


def _metric(spec: EndpointSpec) -> str | None:
    metric = spec.scaling.metric
    return None if metric is None else METRICS[metric.value]


def _private_link(spec: EndpointSpec) -> PrivateLink | None:
    link = spec.private_link
    return None if link is None else PrivateLink(link.account_id, link.region)


# Rows a create fills by hand: spec path -> (spec, target) -> `Config` values.
Created = Callable[[EndpointSpec, Target], dict[str, Any]]
_CREATE: Mapping[str, Created] = {
    # The commit reviewed, not the name: a branch that moves after the plan changes nothing.
    "model.revision": lambda spec, to: {"revision": to.commit or spec.model.revision},
    "model.image": lambda spec, to: {"image": default_image(spec)},
    "model.env": lambda spec, to: {"env": dict(spec.model.env or {})},
    "model.secrets": lambda spec, to: {"secret_keys": frozenset(spec.model.secrets or {})},
    "scaling.metric": lambda spec, to: {"metric": _metric(spec)},
    "private_link": lambda spec, to: {"private_link": _private_link(spec)},
    "tags": lambda spec, to: {"tags": _tags(spec, tuple(sorted(spec.tags or ())), to=to)},
    "protect": lambda spec, to: {},  # a tag: see "tags"
}


def create_config(
    spec: EndpointSpec, *, stack: str, commit: str | None = None, digest: str | None = None
) -> Config:
    values: dict[str, Any] = {}
    target = Target(stack, commit, digest)
    for row in FIELDS:
        handler = _CREATE.get(row.spec)
        if handler is not None:
            values.update(handler(spec, target))
        else:
            values[row.attr] = declared(spec, row)
    return Config(**values)


def create_refusal(spec: EndpointSpec) -> str | None:
    """Why `spec` cannot create an endpoint (None: it can)."""
    if spec.model.engine is Engine.KEEP:
        return (
            "model.engine keep leaves the image to an existing endpoint, so it cannot create "
            "one: declare the engine (and image) the endpoint should run"
        )
    return None


def _update_image(spec: EndpointSpec, live: Config) -> Image:
    if spec.model.engine is Engine.KEEP:
        return live.image
    variant = ENGINES[spec.model.engine].variant
    if live.image.variant != variant:
        return default_image(spec)
    return Image(variant, {**live.image.fields, **declared_image(spec)}, live.image.has_credentials)


def _update_measure(spec: EndpointSpec, live: Config) -> dict[str, Any]:
    metric = _metric(spec)
    if metric is None:
        return {"metric": live.metric, "threshold": live.threshold}
    threshold = spec.scaling.threshold
    if threshold is None:
        threshold = live.threshold if live.metric == metric else None
    return {"metric": metric, "threshold": threshold}


def _update_tags(spec: EndpointSpec, live: Config, to: Target) -> dict[str, Any]:
    user = tuple(sorted(spec.tags)) if spec.tags is not None else ownership.user_tags(live.tags)
    return {"tags": _tags(spec, user, to=to)}


def _update_revision(spec: EndpointSpec, live: Config, to: Target) -> str | None:
    if to.commit is not None:
        return to.commit  # resolved for this spec's repository: what was reviewed
    # The live revision of another repository is that repository's commit: never carried over
    # to a new repository (the service resolves the new one's default branch).
    if spec.model.revision is not None or spec.model.repository != live.repository:
        return spec.model.revision
    return live.revision


def own_env(env: Mapping[str, str]) -> dict[str, str]:
    """Env without the keys the service may set itself (`HF_TOKEN`), which no spec declares."""
    return {key: value for key, value in env.items() if key not in SERVICE_ENV}


def _update_env(spec: EndpointSpec, live: Config) -> Mapping[str, str]:
    # Unchanged apart from the service's keys: the live env, so nothing is sent and an
    # `HF_TOKEN` set by the service or by hand stays. Changed: env is replaced whole (the plan
    # shows the `HF_TOKEN` that goes with it).
    declared = spec.model.env
    if declared is None or dict(declared) == own_env(live.env):
        return live.env
    return dict(declared)


def _update_secrets(spec: EndpointSpec, live: Config) -> frozenset[str] | None:
    # Unknown live names (the service does not echo them) stay unknown: they are not compared,
    # and an update sends secrets only when told to (`--resend-secrets`).
    secrets = spec.model.secrets
    return live.secret_keys if secrets is None or live.secret_keys is None else frozenset(secrets)


# Rows an update fills by hand: spec path -> (spec, live, target) -> `Config` values. The others
# take the declared value, or the live one when the spec does not declare the field.
Updated = Callable[[EndpointSpec, Config, Target], dict[str, Any]]
_UPDATE: Mapping[str, Updated] = {
    "model.revision": lambda spec, live, to: {"revision": _update_revision(spec, live, to)},
    "model.image": lambda spec, live, to: {"image": _update_image(spec, live)},
    "model.env": lambda spec, live, to: {"env": _update_env(spec, live)},
    "model.secrets": lambda spec, live, to: {"secret_keys": _update_secrets(spec, live)},
    "scaling.metric": lambda spec, live, to: _update_measure(spec, live),
    "scaling.threshold": lambda spec, live, to: {},  # with the metric
    "tags": _update_tags,
    "protect": lambda spec, live, to: {},  # a tag: see "tags"
}


def changed_attributes(desired: Config, live: Config) -> tuple[str, ...]:
    """The attributes an update of `live` to `desired` sends, in table order. Fields that only
    change by replacement are never among them."""
    rows = (row for row in FIELDS if row.mode is Mode.IN_PLACE)
    changed = (row.attr for row in rows if getattr(desired, row.attr) != getattr(live, row.attr))
    return tuple(dict.fromkeys(changed))


def paused_config(live: Config) -> Config:
    """What pausing leaves: min and max replicas 0 (the official "Pause and Resume your
    Endpoint" guide); the other scaling settings as they were."""
    return replace(live, min_replica=0, max_replica=0)


def resumed_config(live: Config) -> Config:
    """What resuming a paused endpoint leaves: min and max replicas 1 (the same guide). A paused
    endpoint whose counts are not 0/0 (a service that keeps them on pause) is taken to keep them
    on resume as well, so either behaviour plans right."""
    if live.max_replica == 0:
        return replace(live, min_replica=1, max_replica=1)
    return live


def update_config(
    spec: EndpointSpec,
    live: Config,
    *,
    stack: str,
    commit: str | None = None,
    digest: str | None = None,
    keep: frozenset[str] = frozenset(),
) -> Config:
    """The complete configuration an update sends: declared values over the live ones.

    `live` is the configuration the endpoint has when the update runs (after a pause or resume
    the plan runs first: `paused_config`, `resumed_config`). Fields that only change by
    replacement keep their live values (an update never changes them); so do the replica rows
    when the spec says paused, because an update carrying counts >= 1 resumes an endpoint.
    So do the rows in `keep` (their spec paths: `ignore_changes`, or what a scheduled run
    leaves alone), as if the spec did not declare them; for tags, the user tags (the
    ownership tags are the stack's), or all of them when `protect` is kept too."""
    values: dict[str, Any] = {}
    target = Target(stack, commit, digest)
    stays_paused = spec.state is DesiredState.PAUSED
    for row in FIELDS:
        if stays_paused and Flag.REPLICAS in row.flags:
            values[row.attr] = getattr(live, row.attr)
            continue
        handler = _UPDATE.get(row.spec)
        if row.spec in keep:
            if row.spec == "tags" and "protect" in keep:
                values["tags"] = live.tags  # the stack's own tags kept too (a scheduled run)
            elif row.spec == "tags":
                values.update(_update_tags(replace(spec, tags=None), live, target))
            else:
                # A handler may set several attributes (the metric and its threshold).
                attrs = handler(spec, live, target) if handler is not None else {row.attr: None}
                values.update({attr: getattr(live, attr) for attr in attrs})
            continue
        if handler is not None:
            values.update(handler(spec, live, target))
            continue
        value = None if row.mode is Mode.REPLACE else declared(spec, row)
        values[row.attr] = getattr(live, row.attr) if value is None else value
    return Config(**values)
