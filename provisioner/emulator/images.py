"""`model.image`: the variants the API knows, their fields, defaults and validation.

Owns the rules recorded from the live API: the image is a one-key union keyed by variant; every
container variant requires `url` (`400 VALIDATION_FAILED: model.image.vLLM: missing field
\\`url\\``); unknown fields inside a variant are silently dropped; `port`/`healthRoute` get server
defaults; registry credentials are never returned (`{"username": "", "password": null}`). It must
not know about endpoints' lifecycle or storage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.emulator.serde import (
    PathT,
    SchemaError,
    path_text,
    read_bool,
    read_f64,
    read_obj,
    read_str,
    read_uint,
    unexpected,
)
from provisioner.emulator.wire import validation_failed

DEFAULT_HEALTH_ROUTE = "/health"
REDACTED_CREDENTIALS: dict[str, Any] = {"username": "", "password": None}

Reader = Callable[[Any, PathT], Any]


def _u16(value: Any, path: PathT) -> int:
    return read_uint(value, path, bits=16)


def _u32(value: Any, path: PathT) -> int:
    return read_uint(value, path, bits=32)


def _credentials(value: Any, path: PathT) -> dict[str, Any]:
    obj = read_obj(value, path, "Credentials")
    if "username" not in obj:
        raise SchemaError(path, "missing field `username`")
    read_str(obj["username"], (*path, "username"))
    if obj.get("password") is not None:
        read_str(obj["password"], (*path, "password"))
    # Nothing secret is kept: the API never returns the values and the emulator never uses them.
    return dict(REDACTED_CREDENTIALS)


_BASE: dict[str, Reader] = {"url": read_str, "port": _u16, "healthRoute": read_str}


@dataclass(frozen=True)
class Variant:
    name: str
    needs_url: bool
    fields: Mapping[str, Reader]
    defaults: Mapping[str, Any] = field(default_factory=dict)


def _container(
    name: str,
    port: int,
    extra: Mapping[str, Reader] | None = None,
    more_defaults: Mapping[str, Any] | None = None,
) -> Variant:
    defaults = {"port": port, "healthRoute": DEFAULT_HEALTH_ROUTE, **(more_defaults or {})}
    return Variant(name, True, {**_BASE, **(extra or {})}, defaults)


# Declaration order is the order serde lists variants in its `unknown variant` message.
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("huggingface", False, {}),
        Variant(
            "huggingfaceNeuron",
            False,
            {"batchSize": _u32, "neuronCache": read_str, "sequenceLength": _u32},
        ),
        _container("custom", 80, {"credentials": _credentials}),
        _container(
            "tgi",
            80,
            {
                "maxBatchPrefillTokens": _u32,
                "maxBatchTotalTokens": _u32,
                "maxInputLength": _u32,
                "maxTotalTokens": _u32,
                "disableCustomKernels": read_bool,
                "quantize": read_str,
            },
            {"disableCustomKernels": False},
        ),
        _container(
            "tgiNeuron",
            80,
            {
                "maxBatchSize": _u32,
                "maxInputLength": _u32,
                "maxTotalTokens": _u32,
                "hfAutoCastType": read_str,
                "hfNumCores": _u32,
            },
        ),
        _container(
            "tei",
            80,
            {"maxBatchTokens": _u32, "maxConcurrentRequests": _u32, "pooling": read_str},
        ),
        _container(
            "llamacpp",
            8080,
            {
                "modelPath": read_str,
                "ctxSize": _u32,
                "nParallel": _u32,
                "threadsHttp": _u32,
                "nGpuLayers": _u32,
                "mode": read_str,
                "pooling": read_str,
                "variant": read_str,
                "mmprojModelPath": read_str,
            },
        ),
        _container(
            "vLLM",
            8000,
            {
                "tensorParallelSize": _u32,
                "dataParallelSize": _u32,
                "kvCacheDtype": read_str,
                "maxNumBatchedTokens": _u32,
                "maxNumSeqs": _u32,
                "maxModelLen": _u32,
                "gpuMemoryUtilization": read_f64,
                "enforceEager": read_bool,
            },
        ),
        _container("sGLang", 30000, {"tensorParallelSize": _u32}),
        _container("vLLMNeuron", 8000, {"tensorParallelSize": _u32}),
        _container("vLLMOmni", 8000, {"tensorParallelSize": _u32}),
        _container("hfServe", 80),
    )
}

PARALLEL_VARIANTS = ("vLLM", "sGLang")


def parse_image(value: Any, path: PathT = ("model", "image")) -> dict[str, Any]:
    """Validate a `model.image` value; returns `{variant: fields}` with defaults filled in.

    Every problem is a 400 VALIDATION_FAILED (the API validates the image after deserialising the
    body, which is why a missing `url` is not a 422 like other missing fields)."""
    try:
        return _parse(value, path)
    except SchemaError as err:
        raise validation_failed(path_text(err.path), err.detail) from err


def _parse(value: Any, path: PathT) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(path, f"invalid type: {unexpected(value)}, expected enum ImageConfig")
    if len(value) != 1:
        raise SchemaError(path, "expected map with a single key")
    name, body = next(iter(value.items()))
    variant = VARIANTS.get(name)
    if variant is None:
        listed = ", ".join(f"`{v}`" for v in VARIANTS)
        raise SchemaError(path, f"unknown variant `{name}`, expected one of {listed}")
    here = (*path, name)
    obj = read_obj(body, here, name[:1].upper() + name[1:])
    if variant.needs_url and "url" not in obj:
        raise SchemaError(here, "missing field `url`")
    out: dict[str, Any] = dict(variant.defaults)
    for key, raw in obj.items():
        reader = variant.fields.get(key)
        if reader is None:
            continue  # unknown fields are dropped silently, as the live API does (#4661)
        if raw is None and key != "url":
            out.pop(key, None)
            if key in variant.defaults:
                out[key] = variant.defaults[key]
            continue
        out[key] = reader(raw, (*here, key))
    return {name: out}


# Options the emulator models that the engines' official Inference Endpoints docs do not list
# (reference section 2.4 lists vLLM's as url, ..., tensorParallelSize, dataParallelSize,
# kvCacheDtype, maxNumBatchedTokens, maxNumSeqs): `EmulatorConfig.drop_undocumented_options`
# drops them.
UNDOCUMENTED: Mapping[str, frozenset[str]] = {
    "vLLM": frozenset({"maxModelLen", "gpuMemoryUtilization", "enforceEager"}),
}


def documented_only(image: Mapping[str, Any]) -> dict[str, Any]:
    """A parsed image without the options its variant's docs do not declare."""
    name = variant_of(image)
    dropped = UNDOCUMENTED.get(name, frozenset())
    return {name: {k: v for k, v in image[name].items() if k not in dropped}}


def variant_of(image: Mapping[str, Any]) -> str:
    return next(iter(image))


def health_route(image: Mapping[str, Any]) -> str:
    body = image[variant_of(image)]
    route = body.get("healthRoute") if isinstance(body, dict) else None
    return route if isinstance(route, str) and route else DEFAULT_HEALTH_ROUTE


def check_parallelism(image: Mapping[str, Any], *, accelerators: int, compute_id: str) -> None:
    """vLLM/SGLang on a multi-accelerator instance must say how to use them (huggingface_hub guide:
    the API now rejects it); the product of the sizes cannot exceed the accelerators available."""
    name = variant_of(image)
    if name not in PARALLEL_VARIANTS:
        return
    body = image[name]
    tp = body.get("tensorParallelSize")
    dp = body.get("dataParallelSize")
    where = f"model.image.{name}"
    if accelerators > 1 and tp is None and dp is None:
        raise validation_failed(
            where,
            f"tensorParallelSize or dataParallelSize is required on '{compute_id}', which has "
            f"{accelerators} accelerators",
        )
    used = (tp or 1) * (dp or 1)
    if used > accelerators:
        raise validation_failed(
            where,
            f"tensorParallelSize x dataParallelSize = {used} exceeds the {accelerators} "
            f"accelerator(s) of '{compute_id}'",
        )


def redact_request_image(image: Any) -> Any:
    """For the request log: hide a registry password in a raw (unvalidated) image payload."""
    if not isinstance(image, dict):
        return image
    out: dict[str, Any] = {}
    for name, body in image.items():
        if isinstance(body, dict) and isinstance(body.get("credentials"), dict):
            creds = dict(body["credentials"])
            if creds.get("password") is not None:
                creds["password"] = "***"
            body = {**body, "credentials": creds}
        out[name] = body
    return out
