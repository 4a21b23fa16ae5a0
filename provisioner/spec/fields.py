"""The one table of endpoint fields: for each, its place in a spec, in `hub.models.Config` and in
the API's JSON, whether a change updates in place or forces a replacement, and what kind of
field it is (hardware, image, secret, replica count, verified after an update).

Every mapping is derived from these rows: reading the API's JSON into a `Config`
(`hub.normalise`), the create arguments and the update body (`hub.normalise`), a spec into a
`Config` and the carry-over of undeclared values on update (`plan.desired`), the diff
(`plan.diff`), `import` (`plan.imports`) and the read-back after an update
(`apply.executor`). A row is handled generically by each of them, unless that consumer registers
a hand-written handler under the row's `spec` path (image, env, secrets, metric, tags...). The
spec's structure and defaults live in the JSON Schema; `tests/spec/test_fields.py` holds every
row to the rest.

This module sits in the lowest layer, so `hub` and `plan` can both read it; it imports nothing
but the standard library and knows nothing of the API client.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class Mode(enum.StrEnum):
    IN_PLACE = "in-place"
    REPLACE = "replace"


class Flag(enum.Enum):
    # A change asks the hardware list whether the new instance is offered.
    HARDWARE = "hardware"
    # Part of the container image: refused when the image pulls with registry credentials.
    IMAGE = "image"
    # Values cannot be read back; a change sends the secret values again.
    SECRET = "secret"
    # Read back from the update's response and compared with what was sent.
    VERIFIED = "verified"
    # A replica count, or a setting that only means something with them (the scale-to-zero
    # timeout needs min 0). Pausing sets min and max to 0 and resuming sets them to 1, and a PUT
    # of counts pauses or resumes (the official "Pause and Resume your Endpoint" guide): so they
    # are never compared while the spec says paused, and an update that must leave the endpoint
    # paused sends the live ones.
    REPLICAS = "replicas"


HARDWARE, IMAGE, SECRET, VERIFIED = Flag.HARDWARE, Flag.IMAGE, Flag.SECRET, Flag.VERIFIED
REPLICAS = Flag.REPLICAS


@dataclass(frozen=True)
class Field:
    """One endpoint field.

    `spec` is the dotted path in a spec document, which is also the attribute path on
    `EndpointSpec`; a field spread over several spec keys lists the others in `also` (the image
    is `model.image`, `model.engine` and `model.engine_options`). `attr` is the `Config`
    attribute. `wire` lists the dotted paths in the API's JSON: the first is read and written,
    the others are read when the first is absent. `create_arg` is the keyword of
    `HfApi.create_inference_endpoint` that carries it.
    """

    spec: str
    attr: str
    wire: tuple[str, ...]
    create_arg: str | None
    mode: Mode = Mode.IN_PLACE
    flags: frozenset[Flag] = frozenset()
    also: tuple[str, ...] = ()

    @property
    def spec_paths(self) -> tuple[str, ...]:
        return (self.spec, *self.also)

    def covers(self, path: str) -> bool:
        """Whether a change reported at `path` (e.g. `model.env.DEBUG`) belongs to this field."""
        return any(path == p or path.startswith(p + ".") for p in self.spec_paths)


def _row(
    spec: str,
    attr: str,
    wire: str | tuple[str, ...],
    create_arg: str | None,
    *flags: Flag,
    mode: Mode = Mode.IN_PLACE,
    also: tuple[str, ...] = (),
) -> Field:
    wires = (wire,) if isinstance(wire, str) else wire
    return Field(spec, attr, wires, create_arg, mode, frozenset(flags), also)


REPLACE = Mode.REPLACE

# In the order a plan lists changes.
FIELDS: tuple[Field, ...] = (
    _row("model.repository", "repository", "model.repository", "repository", VERIFIED),
    _row("model.revision", "revision", "model.revision", "revision", VERIFIED),
    _row("model.task", "task", "model.task", "task", VERIFIED),
    _row("model.framework", "framework", "model.framework", "framework", VERIFIED),
    _row(
        "model.image",
        "image",
        "model.image",
        "custom_image",
        IMAGE,
        VERIFIED,
        also=("model.engine", "model.engine_options"),
    ),
    _row("model.env", "env", "model.env", "env", VERIFIED),
    # Not verified: the real service may not echo secret names (reference section 10).
    _row("model.secrets", "secret_keys", "model.secrets", "secrets", SECRET),
    _row("model.command", "command", "model.command", "container_command", VERIFIED),
    _row("model.args", "args", "model.args", "container_args", VERIFIED),
    _row("compute.vendor", "vendor", "provider.vendor", "vendor", HARDWARE, mode=REPLACE),
    _row("compute.region", "region", "provider.region", "region", HARDWARE, mode=REPLACE),
    _row(
        "compute.accelerator",
        "accelerator",
        "compute.accelerator",
        "accelerator",
        HARDWARE,
        VERIFIED,
    ),
    _row(
        "compute.instance_type",
        "instance_type",
        "compute.instanceType",
        "instance_type",
        HARDWARE,
        VERIFIED,
    ),
    _row(
        "compute.instance_size",
        "instance_size",
        "compute.instanceSize",
        "instance_size",
        HARDWARE,
        VERIFIED,
    ),
    _row(
        "scaling.min_replicas",
        "min_replica",
        "compute.scaling.minReplica",
        "min_replica",
        REPLICAS,
        VERIFIED,
    ),
    _row(
        "scaling.max_replicas",
        "max_replica",
        "compute.scaling.maxReplica",
        "max_replica",
        REPLICAS,
        VERIFIED,
    ),
    _row(
        "scaling.scale_to_zero_timeout",
        "scale_to_zero_timeout",
        "compute.scaling.scaleToZeroTimeout",
        "scale_to_zero_timeout",
        REPLICAS,
        VERIFIED,
    ),
    _row(
        "scaling.metric",
        "metric",
        ("compute.scaling.measure", "compute.scaling.metric"),
        "scaling_metric",
        VERIFIED,
    ),
    _row(
        "scaling.threshold",
        "threshold",
        ("compute.scaling.measure", "compute.scaling.threshold"),
        "scaling_threshold",
        VERIFIED,
    ),
    _row("type", "type", "type", "type", VERIFIED),
    _row("private_link", "private_link", "privateService", None, VERIFIED, mode=REPLACE),
    _row("route.domain", "route_domain", "route.domain", "domain", VERIFIED),
    _row("route.path", "route_path", "route.path", "path", VERIFIED),
    _row(
        "cache_http_responses",
        "cache_http_responses",
        ("cacheHttpResponses", "experimentalFeatures.cacheHttpResponses"),
        "cache_http_responses",
        VERIFIED,
    ),
    _row("tags", "tags", "tags", "tags", VERIFIED),
    # Protection is a tag too (see plan.ownership): one more row over the same attribute.
    _row("protect", "tags", "tags", None),
)

BY_SPEC: dict[str, Field] = {f.spec: f for f in FIELDS}


def field_of(path: str) -> Field | None:
    """The field a change at `path` belongs to (the most specific one)."""
    matches = [f for f in FIELDS if f.covers(path)]
    return max(
        matches, key=lambda f: max(len(p) for p in f.spec_paths if f.covers(path)), default=None
    )


# Sent together: the threshold means nothing without its metric.
_TOGETHER = {"scaling.threshold": "scaling.metric", "scaling.metric": "scaling.threshold"}


def rows_named(paths: Iterable[str]) -> frozenset[str]:
    """The rows (by their `spec` path) that spec paths such as `ignore_changes` entries name:
    `model.engine` is the image's row; the metric and its threshold go together."""
    rows = {found.spec for path in paths if (found := field_of(path)) is not None}
    return frozenset(rows | {_TOGETHER[r] for r in rows if r in _TOGETHER})


def has_flag(paths: Iterable[str], flag: Flag) -> bool:
    """Whether any of these change paths belongs to a field with `flag`."""
    for path in paths:
        found = field_of(path)
        if found is not None and flag in found.flags:
            return True
    return False


def get_path(data: Any, path: str) -> Any:
    """`data["a"]["b"]` for "a.b" over nested mappings; None where any step is missing."""
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """`data["a"]["b"] = value` for "a.b", creating the mappings on the way."""
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


@functools.cache
def _steps(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def spec_value(spec: object, path: str) -> Any:
    """The value at a dotted attribute path of a spec object; None where a step is None."""
    value: Any = spec
    for part in _steps(path):  # split once per path: a plan reads 19 paths of every spec
        if value is None:
            return None
        value = getattr(value, part)
    return value
