"""The field table: which declared fields are compared with the live endpoint, how each is read
on both sides, and whether a difference can be updated in place or forces a replacement.

Pure data and pure functions. A field the spec does not declare is `UNDECLARED` and never
compared, so whatever the service fills in (resolved revision, inferred task, default image
settings, `compute.id`, injected env) never shows up as a change.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.hub.models import LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.desired import ENGINES, METRICS_BACK, declared_image_fields
from provisioner.plan.model import FieldChange
from provisioner.spec.model import EndpointSpec, looks_secret


class _Undeclared(enum.Enum):
    TOKEN = "undeclared"


UNDECLARED = _Undeclared.TOKEN
SENSITIVE = "(sensitive)"


class Mode(enum.StrEnum):
    IN_PLACE = "in-place"
    REPLACE = "replace"


Live = Callable[[EndpointSpec, LiveEndpoint], Any]


@dataclass(frozen=True)
class Rule:
    path: str
    mode: Mode
    desired: Callable[[EndpointSpec], Any]
    live: Live
    # Mapping values are compared key by key, each key reported as `path.key`.
    per_key: bool = False
    # Whether live keys the spec does not list count as differences (env: yes, image: no,
    # since the service fills in image settings nobody declared).
    extra_live_keys: bool = True


def _opt(value: Any) -> Any:
    return UNDECLARED if value is None else value


def _list(value: tuple[str, ...] | None) -> Any:
    return None if value is None else list(value)


def _image_desired(spec: EndpointSpec) -> dict[str, Any]:
    declared = {key: value for key, _, value in declared_image_fields(spec)}
    return {"engine": spec.model.engine.value, **declared}


_VARIANT_ENGINE = {engine.variant: name.value for name, engine in ENGINES.items()}


def _image_live(spec: EndpointSpec, endpoint: LiveEndpoint) -> dict[str, Any]:
    """Live image values under the spec's own key names, for the keys the spec declares."""
    image = endpoint.config.image
    declared = {key: image.fields.get(api_key) for key, api_key, _ in declared_image_fields(spec)}
    return {"engine": _VARIANT_ENGINE.get(image.variant, image.variant), **declared}


def _secrets(spec: EndpointSpec) -> Any:
    if spec.model.secrets is None:
        return UNDECLARED
    return dict.fromkeys(spec.model.secrets, SENSITIVE)


def _metric(spec: EndpointSpec, endpoint: LiveEndpoint) -> Any:
    metric = endpoint.config.metric
    return None if metric is None else METRICS_BACK.get(metric, metric)


def _private_link(spec: EndpointSpec) -> Any:
    link = spec.private_link
    return None if link is None else {"account_id": link.account_id, "region": link.region}


def _private_link_live(spec: EndpointSpec, endpoint: LiveEndpoint) -> Any:
    link = endpoint.config.private_link
    return None if link is None else {"account_id": link.account_id, "region": link.region}


def _route(spec: EndpointSpec, key: str) -> Any:
    return UNDECLARED if spec.route is None else _opt(getattr(spec.route, key))


def _timeout(spec: EndpointSpec) -> Any:
    # Declared with min 0; implied "none" otherwise (the schema forbids it with min > 0).
    return spec.scaling.scale_to_zero_timeout if spec.scaling.min_replicas == 0 else None


def _config(attribute: str) -> Live:
    return lambda spec, endpoint: getattr(endpoint.config, attribute)


IN_PLACE, REPLACE = Mode.IN_PLACE, Mode.REPLACE

RULES: tuple[Rule, ...] = (
    Rule("model.repository", IN_PLACE, lambda s: s.model.repository, _config("repository")),
    Rule("model.revision", IN_PLACE, lambda s: _opt(s.model.revision), _config("revision")),
    Rule("model.task", IN_PLACE, lambda s: _opt(s.model.task), _config("task")),
    Rule("model.framework", IN_PLACE, lambda s: s.model.framework, _config("framework")),
    Rule("model", IN_PLACE, _image_desired, _image_live, per_key=True, extra_live_keys=False),
    Rule(
        "model.env",
        IN_PLACE,
        lambda s: UNDECLARED if s.model.env is None else dict(s.model.env),
        lambda s, e: dict(e.config.env),
        per_key=True,
    ),
    Rule(
        "model.secrets",
        IN_PLACE,
        _secrets,
        lambda s, e: dict.fromkeys(e.config.secret_keys, SENSITIVE),
        per_key=True,
    ),
    Rule(
        "model.command",
        IN_PLACE,
        lambda s: UNDECLARED if s.model.command is None else list(s.model.command),
        lambda s, e: _list(e.config.command),
    ),
    Rule(
        "model.args",
        IN_PLACE,
        lambda s: UNDECLARED if s.model.args is None else list(s.model.args),
        lambda s, e: _list(e.config.args),
    ),
    Rule("compute.vendor", REPLACE, lambda s: s.compute.vendor, _config("vendor")),
    Rule("compute.region", REPLACE, lambda s: s.compute.region, _config("region")),
    Rule("compute.accelerator", IN_PLACE, lambda s: s.compute.accelerator, _config("accelerator")),
    Rule(
        "compute.instance_type",
        IN_PLACE,
        lambda s: s.compute.instance_type,
        _config("instance_type"),
    ),
    Rule(
        "compute.instance_size",
        IN_PLACE,
        lambda s: s.compute.instance_size,
        _config("instance_size"),
    ),
    Rule(
        "scaling.min_replicas", IN_PLACE, lambda s: s.scaling.min_replicas, _config("min_replica")
    ),
    Rule(
        "scaling.max_replicas", IN_PLACE, lambda s: s.scaling.max_replicas, _config("max_replica")
    ),
    Rule("scaling.scale_to_zero_timeout", IN_PLACE, _timeout, _config("scale_to_zero_timeout")),
    Rule(
        "scaling.metric",
        IN_PLACE,
        lambda s: UNDECLARED if s.scaling.metric is None else s.scaling.metric.value,
        _metric,
    ),
    Rule("scaling.threshold", IN_PLACE, lambda s: _opt(s.scaling.threshold), _config("threshold")),
    Rule("type", IN_PLACE, lambda s: s.type.value, _config("type")),
    Rule("private_link", REPLACE, _private_link, _private_link_live),
    Rule("route.domain", IN_PLACE, lambda s: _route(s, "domain"), _config("route_domain")),
    Rule("route.path", IN_PLACE, lambda s: _route(s, "path"), _config("route_path")),
    Rule(
        "cache_http_responses",
        IN_PLACE,
        lambda s: _opt(s.cache_http_responses),
        _config("cache_http_responses"),
    ),
    Rule(
        "tags",
        IN_PLACE,
        lambda s: UNDECLARED if s.tags is None else sorted(s.tags),
        lambda s, e: list(ownership.user_tags(e.config.tags)),
    ),
    Rule(
        "protect",
        IN_PLACE,
        lambda s: s.protect,
        lambda s, e: ownership.is_protected(e.config.tags),
    ),
)


def _same(desired: Any, live: Any) -> bool:
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return float(desired) == float(live) and isinstance(desired, bool) == isinstance(live, bool)
    return bool(desired == live)


def _sensitive(rule: Rule, key: str, desired: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    if rule.path == "model.secrets":
        return True
    return rule.path == "model.env" and (
        looks_secret(key, desired.get(key)) or looks_secret(key, live.get(key))
    )


def _masked(value: Any, sensitive: bool) -> Any:
    return SENSITIVE if sensitive and value is not None else value


def _per_key(rule: Rule, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[FieldChange]:
    keys = set(desired) | set(live) if rule.extra_live_keys else set(desired)
    changes = []
    for key in sorted(keys):
        if key in desired and key in live and _same(desired[key], live[key]):
            continue
        sensitive = _sensitive(rule, key, desired, live)
        changes.append(
            FieldChange(
                f"{rule.path}.{key}",
                _masked(live.get(key), sensitive),
                _masked(desired.get(key), sensitive),
                forces_replacement=rule.mode is Mode.REPLACE,
                sensitive=sensitive,
            )
        )
    return changes


def diff(spec: EndpointSpec, endpoint: LiveEndpoint) -> list[FieldChange]:
    """Every declared field whose live value differs, in table order."""
    changes: list[FieldChange] = []
    for rule in RULES:
        desired = rule.desired(spec)
        if desired is UNDECLARED:
            continue
        live = rule.live(spec, endpoint)
        if rule.per_key:
            changes.extend(_per_key(rule, desired, live))
        elif not _same(desired, live):
            changes.append(
                FieldChange(rule.path, live, desired, forces_replacement=rule.mode is Mode.REPLACE)
            )
    return changes
