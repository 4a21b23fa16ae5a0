"""Raw API JSON -> normalised values (`LiveEndpoint`, `Hardware`), and `Config` -> the create
arguments and the update body. All three are derived from the field table
(`provisioner.spec.fields`): a row is read from and written to its wire path, converted by its
`Config` type, unless a handler below is registered for it.

Normalising here is what keeps plans quiet: server-injected env vars are dropped, tags become a
sorted set, secrets become their key names, credentials a flag, a legacy type its name today.
Anything the service fills in that the user did not declare is kept as-is; the planner decides
what to compare. What the service does not say (secret names, if it leaves them out) stays
unknown (None), never empty.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import fields
from typing import Any

from provisioner.hub.errors import scrub
from provisioner.hub.models import (
    Config,
    EndpointState,
    Image,
    Listing,
    LiveEndpoint,
    PrivateLink,
    Unreadable,
)
from provisioner.spec.diagnostics import shown
from provisioner.spec.fields import FIELDS, Field, Mode, get_path, set_path
from provisioner.spec.schema import valid_name

Raw = Mapping[str, Any]


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


# How a plain row's raw value becomes its `Config` attribute, by the attribute's declared type.
def _text(value: Any) -> str:
    """A string of the configuration, interned when short: a fleet repeats the same vendors,
    regions, types, frameworks and tasks thousands of times, and the plan keeps them all."""
    text = str(value)
    return sys.intern(text) if len(text) <= INTERN_MAX else text


INTERN_MAX = 64
_COERCE: Mapping[str, Callable[[Any], Any]] = {
    "str": lambda v: "" if v is None else _text(v),
    "int": lambda v: int(v or 0),
    "str | None": lambda v: None if v is None else _text(v),
    "int | None": lambda v: None if v is None else int(v),
    "bool | None": lambda v: v if isinstance(v, bool) else None,
    "tuple[str, ...] | None": _strings,
}
_TYPES = {f.name: str(f.type) for f in fields(Config)}


def _image(raw: Raw) -> Image:
    image = _map(get_path(raw, "model.image"))
    if not image:
        return Image("huggingface")
    variant, raw_fields = next(iter(image.items()))
    values = dict(_map(raw_fields))
    has_credentials = values.pop("credentials", None) is not None
    return Image(str(variant), values, has_credentials)


def _measure(raw: Raw) -> tuple[str | None, float | None]:
    scaling = _map(get_path(raw, "compute.scaling"))
    for name, value in _map(scaling.get("measure")).items():
        return str(name), None if value is None else float(value)
    metric, threshold = scaling.get("metric"), scaling.get("threshold")
    return (metric if isinstance(metric, str) else None), (
        float(threshold) if isinstance(threshold, int | float) else None
    )


def _private_link(raw: Raw) -> PrivateLink | None:
    private = _map(raw.get("privateService"))
    if not private.get("accountId"):
        return None
    return PrivateLink(str(private.get("accountId")), str(private.get("region")))


def _secret_keys(raw: Raw) -> frozenset[str] | None:
    """Secret names; None when the response leaves `model.secrets` out (or null): the service
    did not say, which is not the same as `{}`, no secrets."""
    secrets = _map(raw.get("model")).get("secrets")
    return None if secrets is None else frozenset(_map(secrets))


# The service's names before the rename, read as today's: `protected` is `authenticated`
# (token-gated, public URL; huggingface_hub 2.4: "Use `type='authenticated'` instead"), and the
# service may still answer it for old endpoints. Read as it is, a spec saying `authenticated`
# would plan a type change on every run, and its read-back would never agree.
LEGACY_TYPES: Mapping[str, str] = {"protected": "authenticated"}


def _type(raw: Raw) -> str:
    value = raw.get("type")
    text = "" if value is None else _text(value)
    return LEGACY_TYPES.get(text, text)


# Rows read by hand: spec path -> reader. `protect` lives in `tags`, which its own row reads.
_READ: Mapping[str, Callable[[Raw], Any] | None] = {
    "model.image": _image,
    # Every key, including an `HF_TOKEN` the service may inject or a person set by hand: the
    # planner decides what to compare, and never sends env back unless it changed.
    "model.env": lambda raw: {str(k): str(v) for k, v in _map(get_path(raw, "model.env")).items()},
    "model.secrets": _secret_keys,
    "scaling.metric": lambda raw: _measure(raw)[0],
    "scaling.threshold": lambda raw: _measure(raw)[1],
    "type": _type,
    "private_link": _private_link,
    "tags": lambda raw: tuple(sorted({str(t) for t in raw.get("tags") or ()})),
    "protect": None,
}


def _read_plain(raw: Raw, row: Field) -> Any:
    value = None
    for path in row.wire:
        value = get_path(raw, path)
        if value is not None:
            break
    return _COERCE[_TYPES[row.attr]](value)


def config_from_raw(raw: Raw) -> Config:
    values: dict[str, Any] = {}
    for row in FIELDS:
        if row.spec not in _READ:
            values[row.attr] = _read_plain(raw, row)
        elif (reader := _READ[row.spec]) is not None:
            values[row.attr] = reader(raw)
    return Config(**values)


def endpoint_from_raw(raw: Raw, namespace: str) -> LiveEndpoint:
    status = _map(raw.get("status"))
    state = str(status.get("state"))
    return LiveEndpoint(
        namespace=namespace,
        name=str(raw["name"]),
        config=config_from_raw(raw),
        state=EndpointState(state)
        if state in EndpointState._value2member_map_
        else EndpointState.UNKNOWN,
        message=scrub(str(status.get("message") or status.get("errorMessage") or "")),
        url=status.get("url"),
        health_route=str(raw.get("healthRoute") or "/health"),
        ready_replicas=int(status.get("readyReplica") or 0),
        target_replicas=int(status.get("targetReplica") or 0),
        created_at=str(status.get("createdAt", "")),
        updated_at=str(status.get("updatedAt", "")),
    )


# What an endpoint must carry to be read at all (huggingface_hub's `_populate_from_raw` requires
# the same keys; `revision` and `task` may be null there, so only their parents are checked):
# wire path -> the JSON type it must have.
_REQUIRED: tuple[tuple[str, type], ...] = (
    ("name", str),
    ("type", str),
    ("model", dict),
    ("model.repository", str),
    ("model.framework", str),
    ("compute", dict),
    ("compute.scaling", dict),
    ("provider", dict),
    ("status", dict),
    ("status.state", str),
)
_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), "a number" if isinstance(value, int | float) else "?")


def listed_problem(raw: Any) -> str | None:
    """Why a listed item cannot be read as an endpoint, or None when it can."""
    if not isinstance(raw, dict):
        return f"expected an object, got {_json_type(raw)}"
    for path, kind in _REQUIRED:
        value = get_path(raw, path)
        parent = path.rpartition(".")[0]
        if parent and not isinstance(get_path(raw, parent), dict):
            continue  # its parent is already reported
        if value is None:
            return f"{path} is missing"
        if not isinstance(value, kind):
            return f"{path} is {_json_type(value)}, not {_JSON_TYPES[kind]}"
    return None


NAME_RULE = "lowercase letters, digits and '-', starting with a letter, at most 32 characters"


def _tags(raw: Any) -> tuple[str, ...] | None:
    """A listed item's tags as a sorted set, or None when they cannot be read."""
    tags = raw.get("tags") if isinstance(raw, dict) else None
    if not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        return None
    return tuple(sorted(set(tags)))


def _unreadable(raw: Any, namespace: str, position: int, problem: str) -> Unreadable:
    name = raw.get("name") if isinstance(raw, dict) else None
    usable = isinstance(name, str) and valid_name(name)
    return Unreadable(
        namespace=namespace,
        name=name if usable else None,
        problem=problem,
        position=position,
        tags=_tags(raw),
        listed_as=None if usable or name is None or name == "" else shown(name),
    )


def name_problem(raw: Any) -> str | None:
    """Why a listed item's name may not be used (in a path, a file name, a plan): it fails the
    spec's name rule. A service that lists `../victim/prod` or `manual?x=1` would otherwise
    have a DELETE address another endpoint than the one whose tags were read."""
    name = raw.get("name") if isinstance(raw, dict) else None
    if not isinstance(name, str) or valid_name(name):
        return None
    return (
        f"the API lists it under the name {shown(name)}, which is not a valid endpoint name "
        f"({NAME_RULE}); it is never put in a request"
    )


class ListingReader:
    """A namespace's list read page by page: each page's items are read into `LiveEndpoint`s
    (or set aside as `Unreadable`) as the page arrives, so the raw JSON of a large listing is
    never all held at once. One item the client could not read (a missing `status`, a `model`
    that is not an object, a name that fails the name rule) is set aside, named, and the others
    are read as usual. A name listed twice is ambiguous (which one's tags are true?): every item
    under it is set aside, once the whole list is in (`listing()`)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.count = 0
        self._names: Counter[str] = Counter()
        self._read: list[tuple[int, LiveEndpoint, tuple[str, ...] | None]] = []
        self._unreadable: list[Unreadable] = []

    def add(self, items: Sequence[Any]) -> None:
        for raw in items:
            position, self.count = self.count, self.count + 1
            if isinstance(raw, dict) and isinstance(raw.get("name"), str):
                self._names[raw["name"]] += 1
            problem = listed_problem(raw) or name_problem(raw)
            if problem is None:
                try:
                    found = endpoint_from_raw(raw, self.namespace)
                except (KeyError, TypeError, ValueError, AttributeError) as error:
                    problem = f"{type(error).__name__}: {error}"
                else:
                    self._read.append((position, found, _tags(raw)))
                    continue
            self._unreadable.append(_unreadable(raw, self.namespace, position, problem))

    def listing(self) -> Listing:
        endpoints: list[LiveEndpoint] = []
        unreadable = list(self._unreadable)
        for position, found, tags in self._read:
            times = self._names[found.name]
            if times == 1:
                endpoints.append(found)
                continue
            unreadable.append(
                Unreadable(
                    namespace=self.namespace,
                    name=found.name,
                    problem=f"the API lists this name {times} times",
                    position=position,
                    tags=tags,
                )
            )
        unreadable.sort(key=lambda u: u.position)
        return Listing(tuple(endpoints), tuple(unreadable))


def _wire(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


Body = dict[str, Any]


def _write_image(config: Config, body: Body) -> None:
    # An image with registry credentials is left out: the API never returns them, so sending the
    # image back would wipe them. Absent, the endpoint keeps its image whole.
    if not config.image.has_credentials:
        set_path(body, "model.image", config.image.payload())


def _write_measure(config: Config, body: Body) -> None:
    if config.metric is not None:
        set_path(body, "compute.scaling.measure", {config.metric: config.threshold})


def _skip(config: Config, body: Body) -> None:
    """Written by another row's writer (threshold with metric), or not a configuration value
    (secrets are sent from their values, never from `Config`; protection is a tag)."""


# Rows written by hand into the update body: spec path -> writer.
_WRITE: Mapping[str, Callable[[Config, Body], None]] = {
    "model.image": _write_image,
    "model.env": lambda config, body: set_path(body, "model.env", dict(config.env)),
    "model.secrets": _skip,
    "scaling.metric": _write_measure,
    "scaling.threshold": _write_measure,
    "protect": _skip,
}


def update_body(
    config: Config, secrets: Mapping[str, str] | None, *, fields: Collection[str]
) -> dict[str, Any]:
    """The PUT body that changes `fields` (`Config` attributes) to their values in `config`.

    The service merges a PUT sparsely: absent keys keep their value, so only what changed is
    sent, grouped under its parents; `model.image`, `model.env`, `command` and `args` are
    replaced whole, so they are sent whole. An unset value is never sent as null (the service
    resets the field to its default on null): the scale-to-zero timeout of an endpoint whose
    min_replicas is above 0 is left as it is. Secrets are sent only when given: an absent
    `model.secrets` keeps the secrets the endpoint has.
    """
    body: Body = {}
    for row in FIELDS:
        if row.mode is Mode.REPLACE or row.attr not in fields:
            continue
        writer = _WRITE.get(row.spec)
        if writer is not None:
            writer(config, body)
            continue
        value = getattr(config, row.attr)
        if value is not None:
            set_path(body, row.wire[0], _wire(value))
    if secrets is not None:
        set_path(body, "model.secrets", dict(secrets))
    return body


def _create_private_link(config: Config) -> dict[str, Any]:
    link = config.private_link
    return {
        "private_link_account_id": None if link is None else link.account_id,
        "private_link_region": None if link is None else link.region,
    }


# Rows passed to `create_inference_endpoint` by hand: spec path -> keyword arguments.
_CREATE: Mapping[str, Callable[[Config], dict[str, Any]]] = {
    "model.image": lambda config: {"custom_image": config.image.payload()},
    "model.env": lambda config: {"env": dict(config.env) or None},
    "model.secrets": lambda config: {},  # from the secret values, see `create_arguments`
    "private_link": _create_private_link,
}


def create_arguments(config: Config, secrets: Mapping[str, str]) -> dict[str, Any]:
    """Keyword arguments of `HfApi.create_inference_endpoint` for `config`."""
    arguments: dict[str, Any] = {}
    for row in FIELDS:
        handler = _CREATE.get(row.spec)
        if handler is not None:
            arguments.update(handler(config))
        elif row.create_arg is not None:
            arguments[row.create_arg] = _wire(getattr(config, row.attr))
    arguments["secrets"] = dict(secrets) or None
    return arguments
