"""Read-back: what the service's answer to a create or update holds differently from what was
sent, as the plan lists field changes (the same paths and values `plan.diff.diff` gives, so a
later plan can recognise the same difference), and the configuration the service kept.

A value the service did not keep (an engine option it drops, a field it clamps) is not a
failure of the change: sending it again cannot make it stick. Apply reports it once, at the
spec's line; the state records it (`EndpointRecord.not_kept`); and the planner shows it as "not
kept by the service" instead of planning it again (`not_kept_apart`), until the spec or the
service changes. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from provisioner.hub.models import Config, Image
from provisioner.plan import ownership
from provisioner.plan.desired import METRICS_BACK, camel, own_env
from provisioner.plan.diff import ENGINE_OF_VARIANT, SENSITIVE, same
from provisioner.plan.model import FieldChange
from provisioner.spec.fields import FIELDS, Flag
from provisioner.spec.model import ENGINE_OPTIONS
from provisioner.spec.secrets import looks_secret

# The API's image keys, by the name a spec gives them under `model.`.
_IMAGE_KEYS = {"url": "image.url", "port": "image.port", "healthRoute": "image.health_route"}
_OPTION_KEYS = {camel(o): f"engine_options.{o}" for os in ENGINE_OPTIONS.values() for o in os}


def _json(value: Any) -> Any:
    if isinstance(value, tuple | frozenset):
        return sorted(value) if isinstance(value, frozenset) else list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def _image(sent: Image, got: Image) -> list[FieldChange]:
    if got.variant != sent.variant:
        return [
            FieldChange(
                "model.engine",
                ENGINE_OF_VARIANT.get(got.variant, got.variant),
                ENGINE_OF_VARIANT.get(sent.variant, sent.variant),
            )
        ]
    # The service may add settings of its own to the image: only what was sent is compared.
    return [
        FieldChange(
            f"model.{_IMAGE_KEYS.get(key) or _OPTION_KEYS.get(key) or f'image.{key}'}",
            got.fields.get(key),
            want,
        )
        for key, want in sent.fields.items()
        if not same(want, got.fields.get(key))
    ]


def _env(sent: Mapping[str, str], got: Mapping[str, str]) -> list[FieldChange]:
    # The service may add its own `HF_TOKEN` to what was sent.
    want, have = dict(sent), own_env(got) if own_env(sent) == dict(sent) else dict(got)
    changes = []
    for key in sorted(set(want) | set(have)):
        if key in want and key in have and want[key] == have[key]:
            continue
        hidden = looks_secret(key, want.get(key)) or looks_secret(key, have.get(key))
        before, after = have.get(key), want.get(key)
        changes.append(
            FieldChange(
                f"model.env.{key}",
                SENSITIVE if hidden and before is not None else before,
                SENSITIVE if hidden and after is not None else after,
                sensitive=hidden,
            )
        )
    return changes


def _value(attr: str, config: Config) -> Any:
    value = getattr(config, attr)
    if attr == "metric" and value is not None:
        return METRICS_BACK.get(value, value)
    if attr == "tags":
        return list(ownership.user_tags(value))
    if attr == "private_link" and value is not None:
        return {"account_id": value.account_id, "region": value.region}
    return _json(value)


def not_kept(sent: Config, got: Config) -> tuple[list[FieldChange], frozenset[str]]:
    """The fields of `got` (the service's answer) that are not what `sent` said, each as a
    field change from the answer's value to the one sent; and the `Config` attributes they
    belong to. Only the fields the field table marks as verified; a field sent unset (None)
    may be filled in by the service and is not compared."""
    changes: list[FieldChange] = []
    attrs: set[str] = set()
    for row in FIELDS:
        if Flag.VERIFIED not in row.flags or row.attr in attrs:
            continue
        if row.attr == "image":
            found = _image(sent.image, got.image)
        elif row.attr == "env":
            found = _env(sent.env, got.env)
        elif row.attr == "tags":
            # Ownership tags too: a service that drops them would orphan the endpoint.
            found = (
                [FieldChange("tags", _value("tags", got), _value("tags", sent))]
                if set(sent.tags) - set(got.tags)
                else []
            )
        elif getattr(sent, row.attr) is None:
            found = []
        else:
            want, have = _value(row.attr, sent), _value(row.attr, got)
            found = [] if same(want, have) else [FieldChange(row.spec, have, want)]
        if found:
            changes.extend(found)
            attrs.add(row.attr)
    return changes, frozenset(attrs)


def kept(sent: Config, got: Config, attrs: Iterable[str]) -> Config:
    """`sent`, with the service's values for the attributes it did not keep: what the endpoint
    was left with, as the state records it applied (so a later plan does not take the
    service's value for a hand change)."""
    return replace(sent, **{attr: getattr(got, attr) for attr in attrs})


def quoted(field: FieldChange) -> tuple[str, str]:
    """A not-kept field's value sent and value reported, as messages quote them: JSON, `none`
    for absent, `(sensitive)` for a value never shown."""

    def one(value: Any) -> str:
        if field.sensitive:
            return SENSITIVE
        return "none" if value is None else json.dumps(value)

    return one(field.after), one(field.before)


def not_kept_apart(
    fields: Sequence[FieldChange], recorded: Sequence[FieldChange]
) -> tuple[list[FieldChange], tuple[FieldChange, ...]]:
    """`fields` (a plan's differences) without those the last apply sent and saw the service not
    keep: same field, same value declared, same value the service reports. A difference in
    either (the spec or the service changed) is planned again."""
    if not recorded:
        return list(fields), ()
    by_path = {f.path: f for f in recorded}
    again = [
        f
        for f in fields
        if (then := by_path.get(f.path)) is not None
        and same(f.after, then.after)
        and same(f.before, then.before)
    ]
    return [f for f in fields if f not in again], tuple(again)
