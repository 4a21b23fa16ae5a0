"""Spec documents <-> `EndpointSpec`, generically over the dataclasses in `spec.model`.

The keys of a spec are the field names of its dataclasses, so both directions are generic over
them: `structure` builds a spec from a checked document with its schema defaults filled in,
failing on any key the dataclasses lack (a schema key nothing reads can never be dropped
unnoticed); `unstructure` (cattrs) is the effective spec `show` prints and the last-applied
digest is taken of, leaving out exactly the fields still at their "not declared" default.

`structure` is a small walk over the dataclasses' type hints rather than cattrs: importing cattrs
and generating its structuring code is ~30 ms of `validate`'s start-up, for the handful of shapes
the model uses (dataclasses, enums, `X | None`, `tuple[X, ...]`, mappings, scalars). It builds
what cattrs' converter builds, value for value (a test compares the two over every spec the
tests hold).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from provisioner.spec.model import EndpointSpec, Source

if TYPE_CHECKING:
    import cattrs


def _in_field_order(cls: type, converter: cattrs.Converter) -> Callable[[Any], dict[str, Any]]:
    """cattrs' unstructure function for `cls` (fields at their default left out), with the keys
    in the dataclass's own order, which is the order a person reads a spec in (cattrs puts the
    fields without a default first)."""
    from cattrs.gen import make_dict_unstructure_fn, override

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
    import cattrs

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


class UnknownKeysError(ValueError):
    """A document holds keys its dataclass has no field for (a schema key nothing reads)."""


def _same(value: Any) -> Any:
    return value


@cache
def _structurer(kind: Any) -> Callable[[Any], Any]:
    """The function that builds a value of type `kind` from checked plain data (made once per
    type, as cattrs makes its own: interpreting the hints at every value costs 4x as much)."""
    if kind is Any or kind is Source:
        return _same
    origin = typing.get_origin(kind)
    if origin is types.UnionType or origin is typing.Union:
        arms = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(arms) != 1:  # pragma: no cover - the model has no such union
            raise TypeError(f"no structuring for {kind}")
        arm = _structurer(arms[0])
        return lambda value: None if value is None else arm(value)
    if origin is tuple:
        item = _structurer(typing.get_args(kind)[0])
        return lambda value: tuple(map(item, value))
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        key, item = (_structurer(a) for a in typing.get_args(kind))
        return lambda value: {key(k): item(v) for k, v in value.items()}
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _dataclass_structurer(kind)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _enum_structurer(kind)
    if isinstance(kind, type) and issubclass(kind, str | int | float | bool):
        return kind
    raise TypeError(f"no structuring for {kind}")  # pragma: no cover - the model has no such type


def _dataclass_structurer(cls: type) -> Callable[[Any], Any]:
    hints = typing.get_type_hints(cls)
    fields = {f.name: _structurer(hints[f.name]) for f in dataclasses.fields(cls) if f.init}

    def build(value: Mapping[str, Any]) -> Any:
        if not value.keys() <= fields.keys():
            extra = set(value) - fields.keys()
            raise UnknownKeysError(f"{cls.__name__} has no field {', '.join(sorted(extra))}")
        return cls(**{name: fields[name](v) for name, v in value.items()})

    return build


def _enum_structurer(kind: type[enum.Enum]) -> Callable[[Any], Any]:
    """`kind(value)`, with the member looked up directly first: calling an enum class goes
    through its metaclass, several times the cost of the lookup it ends in."""
    members = kind._value2member_map_

    def build(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):
            return kind(value)  # its own answer (a member by `_missing_`, or its error)

    return build


def structure(data: Mapping[str, Any], *, source: Source) -> EndpointSpec:
    """The spec of a schema-valid document whose defaults are filled in."""
    spec: EndpointSpec = _structurer(EndpointSpec)({**data, "source": source})
    return spec


def unstructure(spec: EndpointSpec) -> dict[str, Any]:
    """The spec as plain data: defaults explicit, undeclared optional fields left out."""
    data: dict[str, Any] = _converter().unstructure(spec, EndpointSpec)
    return data
