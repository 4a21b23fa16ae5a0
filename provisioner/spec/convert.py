"""Spec documents <-> `EndpointSpec`, generically over the dataclasses in `spec.model`.

The keys of a spec are the field names of its dataclasses, so one converter (cattrs) does both
directions: `structure` builds a spec from a checked document with its schema defaults filled
in, failing on any key the dataclasses lack (a schema key nothing reads can never be dropped
unnoticed); `unstructure` is the effective spec `show` prints and the last-applied digest is
taken of, leaving out exactly the fields still at their "not declared" default.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from provisioner.spec.model import EndpointSpec, Source


def _in_field_order(cls: type, converter: cattrs.Converter) -> Callable[[Any], dict[str, Any]]:
    """cattrs' unstructure function for `cls` (fields at their default left out), with the keys
    in the dataclass's own order, which is the order a person reads a spec in (cattrs puts the
    fields without a default first)."""
    if cls is EndpointSpec:
        unstructure = make_dict_unstructure_fn(
            cls, converter, _cattrs_omit_if_default=True, source=override(omit=True)
        )
    else:
        unstructure = make_dict_unstructure_fn(cls, converter, _cattrs_omit_if_default=True)
    names = [f.name for f in dataclasses.fields(cls)]

    def ordered(value: Any) -> dict[str, Any]:
        data = unstructure(value)
        return {name: data[name] for name in names if name in data}

    return ordered


def _is_mapping(kind: Any) -> bool:
    origin = getattr(kind, "__origin__", None)
    return origin is not None and isinstance(origin, type) and issubclass(origin, Mapping)


@cache
def _converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, omit_if_default=True)
    converter.register_structure_hook(Source, lambda value, _: value)
    # By class, not by predicate: a `StrEnum` is a `str`, whose identity hook would win.
    converter.register_unstructure_hook(enum.StrEnum, lambda value: value.value)
    # Mappings the user writes (env, secrets, engine options) print sorted by key.
    converter.register_unstructure_hook_func(
        _is_mapping,
        lambda value: {key: converter.unstructure(v) for key, v in sorted(value.items())},
    )
    converter.register_unstructure_hook_factory(
        dataclasses.is_dataclass, lambda cls: _in_field_order(cls, converter)
    )
    return converter


def structure(data: Mapping[str, Any], *, source: Source) -> EndpointSpec:
    """The spec of a schema-valid document whose defaults are filled in."""
    spec: EndpointSpec = _converter().structure({**data, "source": source}, EndpointSpec)
    return spec


def unstructure(spec: EndpointSpec) -> dict[str, Any]:
    """The spec as plain data: defaults explicit, undeclared optional fields left out."""
    data: dict[str, Any] = _converter().unstructure(spec, EndpointSpec)
    return data
