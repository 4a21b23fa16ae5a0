"""Endpoint bodies: parse a create (POST) or update (PUT) body into a normalised spec or patch,
apply PUT semantics, fill server defaults and check cross-field rules.

The spec is kept as a JSON-shaped dict on purpose: the emulator's job is JSON fidelity, and PUT is a
sparse merge over that same shape. Secret values never enter it (keys only), so nothing downstream
can leak them. This module must not know about hardware, quotas or state; the store checks those.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from provisioner.emulator.images import (
    health_route,
    parse_image,
    variant_of,
)
from provisioner.emulator.serde import (
    PathT,
    SchemaError,
    decode_body,
    fail,
    field,
    read_bool,
    read_f64,
    read_obj,
    read_str,
    read_str_list,
    read_str_map,
    read_uint,
    read_variant,
    schema_failure,
)
from provisioner.emulator.wire import bad_request, validation_failed

TYPES = ("public", "authenticated", "private")
ACCELERATORS = ("cpu", "gpu", "neuron")
METRICS = ("hardwareUsage", "pendingRequests")
DEFAULT_METRIC = "hardwareUsage"
SECRET_PLACEHOLDER = "configured"  # value shown for every secret key; see README
PRIVATE_LINK_REGIONS = ("us-east-1", "eu-west-1")

# DNS-label style (the OpenAPI description only says lowercase alphanumerics or '-', <= 32 chars).
NAME_RE = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
NAME_RULE = (
    "a name that must only contain lowercase alphanumeric characters or '-', start with a letter, "
    "not end with '-' and have a length of 32 characters maximum"
)


class _Reset:
    """An explicit JSON `null` in a PUT body: reset the field to its default."""

    def __repr__(self) -> str:
        return "RESET"


RESET: Any = _Reset()

Spec = dict[str, Any]


def resolve_revision(repository: str) -> str:
    # Stands in for "the current commit of main": deterministic so tests and goldens are stable.
    return hashlib.sha1(f"{repository}@main".encode()).hexdigest()


def default_task(image: dict[str, Any]) -> str:
    name = variant_of(image)
    if name == "tei" or (name == "llamacpp" and image[name].get("mode") == "embeddings"):
        return "feature-extraction"
    return "text-generation"


# --- entry points -----------------------------------------------------------------------------


def parse_create(body: bytes) -> Spec:
    text, raw = decode_body(body)
    try:
        spec = _create(raw)
    except SchemaError as err:
        raise schema_failure(text, err) from err
    # Zero replicas is how a stored endpoint says "paused" (see `pauses`); nothing is created
    # paused, so a create asks for at least one.
    if spec["compute"]["scaling"]["maxReplica"] < 1:
        raise validation_failed("compute.scaling.maxReplica", "must be at least 1")
    validate(spec)
    return spec


def parse_update(body: bytes) -> Spec:
    text, raw = decode_body(body)
    try:
        return _update(raw)
    except SchemaError as err:
        raise schema_failure(text, err) from err


# --- create -----------------------------------------------------------------------------------


def _create(raw: Any) -> Spec:
    top = read_obj(raw, (), "EndpointConfig")
    compute = read_obj(field(top, "compute", ()), ("compute",), "ComputeConfig")
    model = read_obj(field(top, "model", ()), ("model",), "ModelConfig")
    spec: Spec = {
        "name": _name(field(top, "name", ())),
        "type": _type(field(top, "type", ()), ("type",)),
        "provider": _provider(field(top, "provider", ())),
        "compute": {
            "accelerator": read_variant(
                field(compute, "accelerator", ("compute",)),
                ("compute", "accelerator"),
                ACCELERATORS,
            ),
            "instanceType": read_str(
                field(compute, "instanceType", ("compute",)), ("compute", "instanceType")
            ),
            "instanceSize": read_str(
                field(compute, "instanceSize", ("compute",)), ("compute", "instanceSize")
            ),
            "scaling": _scaling_create(field(compute, "scaling", ("compute",))),
        },
        "model": {
            "repository": read_str(field(model, "repository", ("model",)), ("model", "repository")),
            "framework": read_str(field(model, "framework", ("model",)), ("model", "framework")),
            "revision": None,
            "revisionPinned": False,
            "task": None,
            "image": parse_image(field(model, "image", ("model",))),
            "env": {},
            "secrets": {},
            "command": None,
            "args": None,
        },
        "tags": [],
        "route": None,
        "cacheHttpResponses": None,
        "privateService": None,
    }
    patch = _update(raw, creating=True)
    merged, _ = apply_patch(spec, {k: v for k, v in patch.items() if k != "name"})
    return merged


def _name(value: Any) -> str:
    name = read_str(value, ("name",))
    if not NAME_RE.match(name):
        fail(("name",), f'invalid value: string "{name}", expected {NAME_RULE}')
    return name


def _type(value: Any, path: PathT) -> str:
    # `protected` (the pre-2025 name) is accepted and stored as `private` (live probe, 2026-07).
    text = read_str(value, path)
    return "private" if text == "protected" else read_variant(text, path, TYPES)


def _provider(value: Any) -> dict[str, str]:
    obj = read_obj(value, ("provider",), "ProviderConfig")
    return {
        "vendor": read_str(field(obj, "vendor", ("provider",)), ("provider", "vendor")),
        "region": read_str(field(obj, "region", ("provider",)), ("provider", "region")),
    }


def _scaling_create(value: Any) -> dict[str, Any]:
    path: PathT = ("compute", "scaling")
    obj = read_obj(value, path, "ScalingConfig")
    return {
        "minReplica": read_uint(field(obj, "minReplica", path), (*path, "minReplica")),
        "maxReplica": read_uint(field(obj, "maxReplica", path), (*path, "maxReplica")),
        "scaleToZeroTimeout": None,
        "metric": DEFAULT_METRIC,
        "threshold": None,
    }


# --- update (and the optional parts of create) ------------------------------------------------


def _opt(obj: dict[str, Any], key: str, reader: Any, path: PathT) -> Any:
    value = obj[key]
    return RESET if value is None else reader(value, (*path, key))


def _update(raw: Any, *, creating: bool = False) -> Spec:
    top = read_obj(raw, (), "EndpointUpdate")
    patch: Spec = {}
    if "name" in top:
        patch["name"] = RESET if top["name"] is None else read_str(top["name"], ("name",))
    if "type" in top:
        patch["type"] = _opt(top, "type", _type, ())
    if "provider" in top and top["provider"] is not None:
        patch["provider"] = _provider(top["provider"])
    if "tags" in top:
        patch["tags"] = _opt(top, "tags", read_str_list, ())
    if "cacheHttpResponses" in top:
        patch["cacheHttpResponses"] = _opt(top, "cacheHttpResponses", read_bool, ())
    if "route" in top:
        patch["route"] = _opt(top, "route", _route, ())
    if "privateService" in top:
        patch["privateService"] = _opt(top, "privateService", _private_service, ())
    if top.get("compute") is not None:
        patch["compute"] = _compute_patch(top["compute"])
    if top.get("model") is not None:
        patch["model"] = _model_patch(top["model"], creating=creating)
    return patch


def _route(value: Any, path: PathT) -> dict[str, Any]:
    obj = read_obj(value, path, "RouteConfig")
    return {k: _opt(obj, k, read_str, path) for k in ("domain", "path") if k in obj}


def _private_service(value: Any, path: PathT) -> dict[str, str]:
    obj = read_obj(value, path, "PrivateServiceConfig")
    return {
        "accountId": read_str(field(obj, "accountId", path), (*path, "accountId")),
        "region": read_str(field(obj, "region", path), (*path, "region")),
    }


def _compute_patch(value: Any) -> Spec:
    path: PathT = ("compute",)
    obj = read_obj(value, path, "ComputeUpdate")
    out: Spec = {}
    if "accelerator" in obj:
        out["accelerator"] = read_variant(obj["accelerator"], (*path, "accelerator"), ACCELERATORS)
    for key in ("instanceType", "instanceSize"):
        if key in obj:
            out[key] = read_str(obj[key], (*path, key))
    if obj.get("scaling") is not None:
        spath: PathT = (*path, "scaling")
        scaling = read_obj(obj["scaling"], spath, "ScalingUpdate")
        sout: Spec = {}
        for key in ("minReplica", "maxReplica", "scaleToZeroTimeout"):
            if key in scaling:
                sout[key] = _opt(scaling, key, read_uint, spath)
        if "metric" in scaling:
            sout["metric"] = _opt(scaling, "metric", _metric, spath)
        if "measure" in scaling:
            sout["measure"] = _opt(scaling, "measure", _measure, spath)
        out["scaling"] = sout
    return out


def _metric(value: Any, path: PathT) -> str:
    return read_variant(value, path, METRICS)


def _measure(value: Any, path: PathT) -> tuple[str, float | None]:
    # `{"pendingRequests": 1.5}`: the key picks the metric, the value is its threshold (or null).
    obj = read_obj(value, path, "Measure")
    for metric in METRICS:
        if metric in obj:
            threshold = obj[metric]
            return metric, None if threshold is None else read_f64(threshold, (*path, metric))
    return DEFAULT_METRIC, None


def _model_patch(value: Any, *, creating: bool) -> Spec:
    path: PathT = ("model",)
    obj = read_obj(value, path, "ModelUpdate")
    out: Spec = {}
    for key in ("repository", "framework"):
        if key in obj:
            out[key] = read_str(obj[key], (*path, key))
    if "revision" in obj:
        out["revision"] = _opt(obj, "revision", read_str, path)
    if "task" in obj:
        if obj["task"] is None:
            # Live API: `task: null` fails deserialisation as a 400 parse error (#4701).
            raise SchemaError((*path, "task"), "expected value", syntax_like=True)
        out["task"] = read_str(obj["task"], (*path, "task"))
    if "image" in obj and not creating:
        out["image"] = RESET if obj["image"] is None else parse_image(obj["image"])
    for key in ("env", "secrets"):
        if key in obj:
            out[key] = _opt(obj, key, read_str_map, path)
    for key in ("command", "args"):
        if key in obj:
            out[key] = _opt(obj, key, read_str_list, path)
    return out


# --- PUT semantics ----------------------------------------------------------------------------


def apply_patch(spec: Spec, patch: Spec) -> tuple[Spec, bool]:
    """Sparse merge of `patch` over `spec`. Returns the new spec and whether a redeploy is needed.

    Absent keys keep their value; `model.image/command/args/env/secrets` and `tags` are replaced
    whole; `null` (RESET) restores the default; `name` and `provider` cannot change."""
    new = copy.deepcopy(spec)
    if "name" in patch and patch["name"] != spec["name"]:
        raise bad_request(
            f"Field 'name' cannot be updated (endpoint '{spec['name']}'): "
            "create a new endpoint with the new name instead"
        )
    for key, value in patch.get("provider", {}).items():
        if value != spec["provider"][key]:
            raise bad_request(
                f"Field 'provider.{key}' cannot be updated (from '{spec['provider'][key]}' to "
                f"'{value}'): create a new endpoint instead"
            )
    defaults: Spec = {"type": "authenticated", "tags": [], "route": None}
    defaults |= {"cacheHttpResponses": None, "privateService": None}
    for key, default in defaults.items():
        if key in patch:
            new[key] = copy.deepcopy(default) if patch[key] is RESET else patch[key]
    if isinstance(patch.get("route"), dict):
        route = {**(spec["route"] or {}), **patch["route"]}
        route = {k: v for k, v in route.items() if v is not RESET}
        new["route"] = route or None
    _merge_compute(new["compute"], patch.get("compute", {}))
    _merge_model(new["model"], patch.get("model", {}))
    redeploy = _without_tags(new) != _without_tags(spec) or "secrets" in patch.get("model", {})
    return new, redeploy


def replica_counts(patch: Spec) -> bool:
    """Whether a PUT carries `minReplica` or `maxReplica`: the documented way to pause (0/0) or
    resume (counts >= 1) an endpoint by updating it."""
    scaling = patch.get("compute", {}).get("scaling", {})
    return "minReplica" in scaling or "maxReplica" in scaling


def with_replicas(spec: Spec, replicas: int) -> Spec:
    """`spec` with both replica counts set to `replicas`: 0 when paused, 1 when resumed (the
    official "Pause and Resume your Endpoint" guide). Other scaling settings are kept."""
    new = copy.deepcopy(spec)
    new["compute"]["scaling"]["minReplica"] = replicas
    new["compute"]["scaling"]["maxReplica"] = replicas
    return new


def _merge_compute(compute: Spec, patch: Spec) -> None:
    for key in ("accelerator", "instanceType", "instanceSize"):
        if key in patch:
            compute[key] = patch[key]
    scaling = compute["scaling"]
    sp = patch.get("scaling", {})
    for key, default in (("minReplica", 1), ("maxReplica", 1), ("scaleToZeroTimeout", None)):
        if key in sp:
            scaling[key] = default if sp[key] is RESET else sp[key]
    if "metric" in sp:
        metric = DEFAULT_METRIC if sp["metric"] is RESET else sp["metric"]
        if metric != scaling["metric"]:
            scaling["metric"], scaling["threshold"] = metric, None
    if "measure" in sp:
        measure = (DEFAULT_METRIC, None) if sp["measure"] is RESET else sp["measure"]
        scaling["metric"], scaling["threshold"] = measure


def _merge_model(model: Spec, patch: Spec) -> None:
    for key in ("framework", "task"):
        if key in patch:
            model[key] = patch[key]
    if "image" in patch:
        model["image"] = {"huggingface": {}} if patch["image"] is RESET else patch["image"]
    if "repository" in patch and patch["repository"] != model["repository"]:
        model["repository"] = patch["repository"]
        if not model["revisionPinned"]:
            model["revision"] = resolve_revision(model["repository"])
    if "revision" in patch:
        pinned = patch["revision"] is not RESET
        model["revisionPinned"] = pinned
        model["revision"] = patch["revision"] if pinned else resolve_revision(model["repository"])
    if "env" in patch:
        model["env"] = {} if patch["env"] is RESET else dict(patch["env"])
    if "secrets" in patch:
        # Keys only: the value is never returned nor used, so it is not kept anywhere.
        keys = {} if patch["secrets"] is RESET else patch["secrets"]
        model["secrets"] = dict.fromkeys(keys, SECRET_PLACEHOLDER)
    for key in ("command", "args"):
        if key in patch:
            model[key] = None if patch[key] is RESET else list(patch[key])
    if model["revision"] is None:
        model["revision"] = resolve_revision(model["repository"])
    if model["task"] is None:
        model["task"] = default_task(model["image"])


def _without_tags(spec: Spec) -> Spec:
    return {k: v for k, v in spec.items() if k != "tags"}


# --- cross-field rules ------------------------------------------------------------------------


def validate(spec: Spec) -> None:
    """Rules that hold for any stored spec, checked after create and after every merge. A
    stored `maxReplica` may be 0: that is a paused endpoint."""
    scaling = spec["compute"]["scaling"]
    if scaling["minReplica"] > scaling["maxReplica"]:
        raise validation_failed(
            "compute.scaling",
            f"minReplica ({scaling['minReplica']}) must be lower than or equal to maxReplica "
            f"({scaling['maxReplica']})",
        )
    if scaling["scaleToZeroTimeout"] is not None and scaling["scaleToZeroTimeout"] < 1:
        raise validation_failed("compute.scaling.scaleToZeroTimeout", "must be at least 1 minute")
    if scaling["threshold"] is not None and scaling["threshold"] <= 0:
        raise validation_failed(f"compute.scaling.measure.{scaling['metric']}", "must be positive")
    route = spec["route"] or {}
    if "path" in route and not route["path"].startswith("/"):
        raise validation_failed("route.path", "must start with '/'")
    private = spec["privateService"]
    if private is not None and private["region"] not in PRIVATE_LINK_REGIONS:
        raise validation_failed(
            "privateService.region", f"must be one of {', '.join(PRIVATE_LINK_REGIONS)}"
        )


def endpoint_health_route(spec: Spec) -> str:
    return health_route(spec["model"]["image"])
