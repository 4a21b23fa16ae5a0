"""A live endpoint -> the minimal spec that describes it (what `provisioner import` writes).

Derived from the field table: every field the endpoint has a value for is written at its spec
path, so the spec does not depend on the `_defaults.yaml` it lands under. Left out is what the
service filled in by itself (a resolved commit revision, default image settings, the default
scaling metric, injected env), so the imported spec declares what a person chose and the next
plan only adopts it. So are the replica counts of a paused endpoint: pausing set them to 0, which
no spec may declare, and a paused spec does not compare them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from provisioner.hub.models import Config, EndpointState, LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.desired import ENGINES, METRICS_BACK, camel
from provisioner.spec.fields import FIELDS, Flag, set_path
from provisioner.spec.model import ENGINE_OPTIONS, Engine

_COMMIT = re.compile(r"^[0-9a-f]{40}$")

Document = dict[str, Any]


def _engine(variant: str) -> Engine | None:
    for engine, image in ENGINES.items():
        if image.variant == variant:
            return engine
    return None


def _image(config: Config, document: Document) -> None:
    engine = _engine(config.image.variant) or Engine.CUSTOM
    if engine is Engine.DEFAULT:
        return
    set_path(document, "model.engine", engine.value)
    defaults = ENGINES[engine]
    fields = config.image.fields
    image: dict[str, Any] = {}
    if fields.get("url"):
        image["url"] = fields["url"]
    if fields.get("port") not in (None, defaults.port):
        image["port"] = fields["port"]
    if fields.get("healthRoute") not in (None, defaults.health_route):
        image["health_route"] = fields["healthRoute"]
    if image:
        set_path(document, "model.image", image)
    options = {
        option: fields[camel(option)]
        for option in sorted(ENGINE_OPTIONS[engine])
        if fields.get(camel(option)) is not None
    }
    if options:
        set_path(document, "model.engine_options", options)


def _revision(config: Config, document: Document) -> None:
    # A resolved commit is the service's default, not a choice.
    if config.revision and not _COMMIT.match(config.revision):
        set_path(document, "model.revision", config.revision)


def _env(config: Config, document: Document) -> None:
    if config.env:
        set_path(document, "model.env", dict(sorted(config.env.items())))


def _secrets(config: Config, document: Document) -> None:
    # The values cannot be read back; whoever applies must provide them under these names.
    if config.secret_keys:
        refs = {key: {"from_env": key} for key in sorted(config.secret_keys)}
        set_path(document, "model.secrets", refs)


def _timeout(config: Config, document: Document) -> None:
    if config.min_replica == 0 and config.scale_to_zero_timeout:
        set_path(document, "scaling.scale_to_zero_timeout", config.scale_to_zero_timeout)


def _measure(config: Config, document: Document) -> None:
    # A metric without a threshold is the service's default, not a choice.
    if config.metric and config.threshold is not None:
        set_path(document, "scaling.metric", METRICS_BACK.get(config.metric, config.metric))
        set_path(document, "scaling.threshold", config.threshold)


def _private_link(config: Config, document: Document) -> None:
    link = config.private_link
    if link is not None:
        document["private_link"] = {"account_id": link.account_id, "region": link.region}


def _tags(config: Config, document: Document) -> None:
    tags = ownership.user_tags(config.tags)
    if tags:
        document["tags"] = list(tags)


def _nothing(config: Config, document: Document) -> None:
    """Written by another row (threshold with metric), or not imported: protection is a
    decision the person importing makes."""


# Rows imported by hand: spec path -> writer.
_IMPORT: Mapping[str, Callable[[Config, Document], None]] = {
    "model.revision": _revision,
    "model.image": _image,
    "model.env": _env,
    "model.secrets": _secrets,
    "scaling.scale_to_zero_timeout": _timeout,
    "scaling.metric": _measure,
    "scaling.threshold": _nothing,
    "private_link": _private_link,
    "tags": _tags,
    "protect": _nothing,
}


def spec_document(live: LiveEndpoint, *, default_namespace: str | None) -> dict[str, Any]:
    """Spec-shaped data (snake_case keys, valid against the schema) for `live`."""
    document: Document = {"name": live.name}
    if live.namespace != default_namespace:
        document["namespace"] = live.namespace
    # A paused endpoint's 0/0 says nothing of the counts it ran with (the schema's defaults
    # apply when the spec is resumed). One whose counts survived the pause keeps them.
    zeroed = live.state is EndpointState.PAUSED and live.config.max_replica == 0
    for row in FIELDS:
        if zeroed and Flag.REPLICAS in row.flags:
            continue
        writer = _IMPORT.get(row.spec)
        value = getattr(live.config, row.attr)
        if writer is not None:
            writer(live.config, document)
        elif value is not None:
            set_path(document, row.spec, list(value) if isinstance(value, tuple) else value)
    if live.state is EndpointState.PAUSED:
        document["state"] = "paused"
    document["adopt"] = True
    return document
