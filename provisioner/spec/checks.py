"""Rules that span fields, and the conversion of a schema-valid document into an `EndpointSpec`.

Runs only on documents the schema accepted, so shapes and types can be trusted here. Cross-file
rules (duplicate names) live in `stack`, which sees every document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from provisioner.spec.convert import structure
from provisioner.spec.defaults import with_defaults
from provisioner.spec.diagnostics import Diagnostic, Severity
from provisioner.spec.loader import Document, KeyPath
from provisioner.spec.model import (
    ENGINE_OPTIONS,
    NEEDS_IMAGE_URL,
    NO_IMAGE,
    SERVICE_ENV,
    EndpointSpec,
    EndpointType,
    Engine,
    Source,
)
from provisioner.spec.schedule import days_as_list, schedule_rules
from provisioner.spec.secrets import looks_secret
from provisioner.spec.smoke import smoke_rules

RESERVED_TAG_PREFIX = "provisioner"
# The most conservative form of a tag (reference section 10, "Tags"): nothing documents which
# characters or lengths the service accepts, and its docs' only example is `for-testing`.
# Ownership tags always have it (`plan.ownership`); a user tag outside it only gets a warning.
CONSERVATIVE_TAG = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
CONSERVATIVE_TAG_MAX = 64

_SIZE = re.compile(r"^x(\d+)$")
# The options of any engine.
_KNOWN_OPTIONS = frozenset().union(*ENGINE_OPTIONS.values())


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _error(doc: Document, path: KeyPath, message: str, *, key: bool = False) -> Diagnostic:
    return Diagnostic(doc.mark(path, key=key), message)


def engine_image(doc: Document, model: dict[str, Any]) -> list[Diagnostic]:
    """`model.image` against the engine, for the engines added with the image variants of
    huggingface_hub 2.4 and for `keep` (custom and default are checked in `rules`)."""
    name = str(model.get("engine", Engine.DEFAULT.value))
    if name not in Engine._value2member_map_ or name in (Engine.CUSTOM, Engine.DEFAULT):
        return []
    engine, image = Engine(name), _map(model.get("image"))
    if engine in NEEDS_IMAGE_URL and not image.get("url"):
        where: KeyPath = ("model", "image") if image else ("model", "engine")
        message = (
            f"model.engine {engine.value} needs model.image.url (the container to run): "
            "provisioner knows no default image for it"
        )
        return [Diagnostic(doc.mark(where), message)]
    if engine in NO_IMAGE and image:
        message = (
            "model.engine keep leaves the endpoint's image as it is: remove model.image, or "
            "declare the engine that runs it"
            if engine is Engine.KEEP
            else f"model.image is not a setting of engine {engine.value}: it runs a managed image"
        )
        return [Diagnostic(doc.mark(("model", "image"), key=True), message)]
    return []


def _engine(model: Mapping[str, Any]) -> Engine | None:
    """The declared engine, or None when it is not one (the schema reports that)."""
    name = model.get("engine")
    # Anything else (a mapping, a list...) is the schema's to report.
    return Engine(name) if isinstance(name, str) and name in Engine._value2member_map_ else None


def _scaling_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    scaling = _map(data.get("scaling"))
    low, high = _int(scaling.get("min_replicas")), _int(scaling.get("max_replicas"))
    if low is not None and high is not None and low > high:
        yield _error(
            doc,
            ("scaling", "min_replicas"),
            f"scaling.min_replicas ({low}) is greater than scaling.max_replicas ({high})",
        )
    has_timeout = scaling.get("scale_to_zero_timeout") is not None
    if low == 0 and not has_timeout:
        yield _error(
            doc,
            ("scaling", "min_replicas"),
            "scaling.scale_to_zero_timeout (minutes) is required when min_replicas is 0",
        )
    if low is not None and low > 0 and has_timeout:
        yield _error(
            doc,
            ("scaling", "scale_to_zero_timeout"),
            f"scaling.scale_to_zero_timeout is only allowed when min_replicas is 0 (it is {low})",
            key=True,
        )
    if "threshold" in scaling and "metric" not in scaling:
        yield _error(
            doc, ("scaling", "threshold"), "scaling.threshold needs scaling.metric", key=True
        )


def _image_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    model = _map(data.get("model"))
    engine = _engine(model)
    image = _map(model.get("image"))
    if engine is Engine.CUSTOM and not image.get("url"):
        where: KeyPath = ("model", "image") if image else ("model", "engine")
        yield _error(doc, where, "model.engine custom needs model.image.url (the container to run)")
    if engine is Engine.DEFAULT and image:
        yield _error(
            doc,
            ("model", "image"),
            "model.image needs model.engine (custom, tgi, vllm, sglang, tei or llamacpp); "
            "the default engine runs Hugging Face's managed image",
            key=True,
        )
    yield from engine_image(doc, model)


def _engine_option_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    model = _map(data.get("model"))
    engine = _engine(model)
    if engine is None:
        return
    allowed = ENGINE_OPTIONS[engine]
    for option in _map(model.get("engine_options")):
        # Options no engine knows are the schema's to report ("did you mean").
        if option in _KNOWN_OPTIONS and option not in allowed:
            choices = ", ".join(sorted(allowed)) or "none"
            yield _error(
                doc,
                ("model", "engine_options", option),
                f"model.engine_options.{option} is not an option of engine "
                f"{engine.value!r} (its options: {choices})",
                key=True,
            )


def _parallelism_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    model = _map(data.get("model"))
    engine = _engine(model)
    options = _map(model.get("engine_options"))
    compute = _map(data.get("compute"))
    size = _SIZE.match(str(compute.get("instance_size", "")))
    accelerators = int(size.group(1)) if size else 1
    if (
        engine in (Engine.VLLM, Engine.SGLANG)
        and compute.get("accelerator") == "gpu"
        and accelerators > 1
        and "tensor_parallel_size" not in options
        and "data_parallel_size" not in options
    ):
        yield _error(
            doc,
            ("compute", "instance_size"),
            f"{engine} on {accelerators} GPUs needs model.engine_options."
            "tensor_parallel_size (or data_parallel_size for vllm); "
            "the service rejects it otherwise",
        )


def _env_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    model = _map(data.get("model"))
    env = _map(model.get("env"))
    for key, value in env.items():
        if key not in SERVICE_ENV and looks_secret(key, value):
            yield Diagnostic(
                doc.mark(("model", "env", key), key=True),
                f"model.env.{key} looks like a secret: plans show it as (sensitive), but env "
                "values are kept in clear in the spec and in saved plans (plan --out); "
                f"move it to model.secrets ({key}: {{from_env: VARIABLE}})",
                Severity.WARNING,
            )
    for key in sorted(SERVICE_ENV & set(env)):
        yield _error(
            doc,
            ("model", "env", key),
            f"model.env.{key} is set by the service itself; remove it (use a secret under "
            "another name if the container needs a token)",
            key=True,
        )
    for key in _map(model.get("secrets")):
        if key in env:
            yield _error(
                doc,
                ("model", "secrets", key),
                f"{key} is both in model.env and model.secrets; keep one",
                key=True,
            )


def _access_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    endpoint_type = data.get("type")
    link = data.get("private_link")
    if endpoint_type == EndpointType.PRIVATE.value and link is None:
        yield _error(
            doc, ("type",), "type private needs private_link (the AWS account allowed to connect)"
        )
    if link is not None and endpoint_type != EndpointType.PRIVATE.value:
        yield _error(doc, ("private_link",), "private_link needs type: private", key=True)
    if link is not None and _map(data.get("compute")).get("vendor", "aws") != "aws":
        yield _error(
            doc, ("private_link",), "private_link is AWS PrivateLink: it needs vendor aws", key=True
        )


def _tag_rules(doc: Document, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    tags = data.get("tags")
    for index, tag in enumerate(tags if isinstance(tags, list) else []):
        if not isinstance(tag, str):
            continue
        if tag.lower().startswith(RESERVED_TAG_PREFIX):
            yield _error(
                doc,
                ("tags", index),
                f"tag {tag!r} is reserved: tags starting with 'provisioner' mark ownership",
            )
        elif not is_conservative_tag(tag):
            yield Diagnostic(
                doc.mark(("tags", index)),
                f"tag {tag!r} is not in the conservative form (lowercase letters, digits and "
                f"'-', at most {CONSERVATIVE_TAG_MAX} characters): the service documents no tag "
                "format, so it may be refused or changed; `make acceptance` checks the "
                "conservative form only",
                Severity.WARNING,
            )


def is_conservative_tag(tag: str) -> bool:
    """Lowercase letters, digits and '-' (not first or last), at most 64 characters."""
    return len(tag) <= CONSERVATIVE_TAG_MAX and CONSERVATIVE_TAG.match(tag) is not None


# In the order their diagnostics are reported.
_RULES: tuple[Callable[[Document, Mapping[str, Any]], Iterator[Diagnostic]], ...] = (
    _scaling_rules,
    _image_rules,
    _engine_option_rules,
    _parallelism_rules,
    _env_rules,
    _access_rules,
    _tag_rules,
    schedule_rules,
    smoke_rules,
)


def rules(doc: Document) -> list[Diagnostic]:
    """Cross-field rules. Tolerates documents the schema rejected: a rule whose inputs are
    malformed is skipped (the schema already reported them), so one run reports everything."""
    data = with_defaults(_map(doc.data))
    return [diagnostic for rule in _RULES for diagnostic in rule(doc, data)]


def _source(doc: Document) -> Source:
    return Source(file=doc.file, document=doc.index, marks=doc.marks)


def build(doc: Document, *, default_namespace: str | None) -> EndpointSpec:
    """The spec of a schema-valid, rule-valid document, its schema defaults filled in."""
    data = with_defaults(doc.data)
    if default_namespace is not None:
        data.setdefault("namespace", default_namespace)
    if isinstance(data.get("schedule"), dict):
        windows = [
            {**window, "days": days_as_list(window["days"])}
            for window in data["schedule"]["windows"]
        ]
        data["schedule"] = {**data["schedule"], "windows": windows}
    return structure(data, source=_source(doc))
