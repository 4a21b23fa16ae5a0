"""The diff: each row of the field table (`provisioner.spec.fields`) as a comparison rule, how
its value is read on both sides, and whether a difference forces a replacement (the row's mode).

Pure data and pure functions. A field the spec does not declare is `UNDECLARED` and never
compared, so whatever the service fills in (inferred task, default image settings, `compute.id`,
injected env) never shows up as a change. Nor are replica counts while the spec says paused:
pausing sets them to 0 (`Flag.REPLICAS`). Nor is what the service does not report (`UNKNOWN`:
secret names, if its responses leave them out). The revision is compared as a commit: the
planner passes the commit the declared revision (or the default branch) resolved to at plan
time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from provisioner.hub.models import LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.desired import (
    ENGINES,
    METRICS_BACK,
    declared,
    declared_image_fields,
    own_env,
)
from provisioner.plan.model import FieldChange
from provisioner.spec.fields import FIELDS, Field, Flag, Mode
from provisioner.spec.model import DesiredState, EndpointSpec, Engine
from provisioner.spec.secrets import looks_secret


class _Undeclared(enum.Enum):
    TOKEN = "undeclared"
    UNKNOWN = "unknown"


UNDECLARED = _Undeclared.TOKEN
# A live value the service does not report (secret names it leaves out): never compared, so it
# can never be a difference that no apply removes.
UNKNOWN = _Undeclared.UNKNOWN
SENSITIVE = "(sensitive)"


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
    # Values never shown (secrets); env values are masked when they look secret.
    secret: bool = False
    # The row's flags (`provisioner.spec.fields.Flag`).
    flags: frozenset[Flag] = frozenset()
    # The desired value is the commit the plan resolved the spec's revision to, when there is
    # one (declared or not: no revision means the default branch's commit).
    resolved: bool = False


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _plain(row: Field) -> Rule:
    """A field compared as one value: undeclared when the spec leaves it out."""

    def desired(spec: EndpointSpec) -> Any:
        value = declared(spec, row)
        return UNDECLARED if value is None else _json(value)

    return Rule(
        row.spec,
        row.mode,
        desired,
        lambda s, e: _json(getattr(e.config, row.attr)),
        secret=Flag.SECRET in row.flags,
    )


def _image_desired(spec: EndpointSpec) -> Any:
    if spec.model.engine is Engine.KEEP:
        return UNDECLARED  # whatever image the endpoint runs is fine
    declared_fields = {key: value for key, _, value in declared_image_fields(spec)}
    return {"engine": spec.model.engine.value, **declared_fields}


# The spec's engine name of each image variant (`vLLM` -> `vllm`).
ENGINE_OF_VARIANT = {engine.variant: name.value for name, engine in ENGINES.items()}


def _image_live(spec: EndpointSpec, endpoint: LiveEndpoint) -> dict[str, Any]:
    """Live image values under the spec's own key names, for the keys the spec declares."""
    image = endpoint.config.image
    found = {key: image.fields.get(api_key) for key, api_key, _ in declared_image_fields(spec)}
    return {"engine": ENGINE_OF_VARIANT.get(image.variant, image.variant), **found}


def _secrets(spec: EndpointSpec) -> Any:
    if spec.model.secrets is None:
        return UNDECLARED
    return dict.fromkeys(spec.model.secrets, SENSITIVE)


def _secrets_live(spec: EndpointSpec, endpoint: LiveEndpoint) -> Any:
    keys = endpoint.config.secret_keys
    return UNKNOWN if keys is None else dict.fromkeys(keys, SENSITIVE)


def _metric(spec: EndpointSpec, endpoint: LiveEndpoint) -> Any:
    metric = endpoint.config.metric
    return None if metric is None else METRICS_BACK.get(metric, metric)


def _link(link: Any) -> Any:
    return None if link is None else {"account_id": link.account_id, "region": link.region}


def _env_live(spec: EndpointSpec, endpoint: LiveEndpoint) -> dict[str, str]:
    """The live env to compare: without the service's own keys (`HF_TOKEN`) while the rest
    matches; with them when env changes, since it is replaced whole and they go with it."""
    env, own = dict(endpoint.config.env), own_env(endpoint.config.env)
    return own if spec.model.env is not None and dict(spec.model.env) == own else env


# Fields compared by hand, keyed by their row's spec path. The image is reported key by key
# under `model.` (`model.engine`, `model.image.url`, `model.engine_options.quantize`).
_SPECIAL: Mapping[str, Callable[[Field], Rule]] = {
    "model.revision": lambda row: replace(_plain(row), resolved=True),
    "model.image": lambda row: Rule(
        "model", row.mode, _image_desired, _image_live, per_key=True, extra_live_keys=False
    ),
    "model.env": lambda row: Rule(
        row.spec,
        row.mode,
        lambda s: UNDECLARED if s.model.env is None else dict(s.model.env),
        _env_live,
        per_key=True,
    ),
    "model.secrets": lambda row: Rule(
        row.spec,
        row.mode,
        _secrets,
        _secrets_live,
        per_key=True,
        secret=Flag.SECRET in row.flags,
    ),
    "scaling.metric": lambda row: replace(_plain(row), live=_metric),
    "private_link": lambda row: Rule(
        row.spec,
        row.mode,
        lambda s: _link(s.private_link),
        lambda s, e: _link(e.config.private_link),
    ),
    "tags": lambda row: Rule(
        row.spec,
        row.mode,
        lambda s: UNDECLARED if s.tags is None else sorted(s.tags),
        lambda s, e: list(ownership.user_tags(e.config.tags)),
    ),
    "protect": lambda row: Rule(
        row.spec, row.mode, lambda s: s.protect, lambda s, e: ownership.is_protected(e.config.tags)
    ),
}

RULES: tuple[Rule, ...] = tuple(
    replace(_SPECIAL.get(row.spec, _plain)(row), flags=row.flags) for row in FIELDS
)


def same(desired: Any, live: Any) -> bool:
    """Equal as a plan compares values: 2 and 2.0 are, True and 1 are not."""
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return float(desired) == float(live) and isinstance(desired, bool) == isinstance(live, bool)
    return bool(desired == live)


def _sensitive(rule: Rule, key: str, desired: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    if rule.secret:
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
        if key in desired and key in live and same(desired[key], live[key]):
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


def diff(
    spec: EndpointSpec, endpoint: LiveEndpoint, *, commit: str | None = None
) -> list[FieldChange]:
    """Every declared field whose live value differs, in table order.

    `endpoint` is the endpoint as the change will find it: a paused one about to be resumed is
    compared with what resuming leaves (`plan.desired.resumed_config`). While the spec says
    paused, replica counts are not compared: a paused endpoint has 0/0 whatever the spec says,
    and the declared ones are applied when it is resumed. `commit` is what the spec's revision
    resolved to (None: not resolved, the declared name is compared as it is); a live branch name
    is expected already replaced by its commit (the planner does that)."""
    paused = spec.state is DesiredState.PAUSED
    changes: list[FieldChange] = []
    for rule in RULES:
        if paused and Flag.REPLICAS in rule.flags:
            continue
        desired: Any = commit if rule.resolved and commit is not None else rule.desired(spec)
        if desired is UNDECLARED:
            continue
        live = rule.live(spec, endpoint)
        if live is UNKNOWN:
            continue
        if rule.per_key:
            changes.extend(_per_key(rule, desired, live))
        elif not same(desired, live):
            changes.append(
                FieldChange(rule.path, live, desired, forces_replacement=rule.mode is Mode.REPLACE)
            )
    return changes
