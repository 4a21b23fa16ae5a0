"""A live endpoint -> the minimal spec that describes it (what `provisioner import` writes).

Leaves out what the service filled in by itself (a resolved commit revision, default image
settings, the default scaling metric, injected env), so the imported spec declares what a person
chose and the next plan only adopts it.
"""

from __future__ import annotations

import re
from typing import Any

from provisioner.hub.models import EndpointState, LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.desired import ENGINES, METRICS_BACK, camel
from provisioner.spec.model import ENGINE_OPTIONS, Engine

_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _engine(variant: str) -> Engine | None:
    for engine, image in ENGINES.items():
        if image.variant == variant:
            return engine
    return None


def spec_document(live: LiveEndpoint, *, default_namespace: str | None) -> dict[str, Any]:
    """Spec-shaped data (snake_case keys, valid against the schema) for `live`."""
    config = live.config
    model: dict[str, Any] = {"repository": config.repository}
    if config.revision and not _COMMIT.match(config.revision):
        model["revision"] = config.revision
    if config.task:
        model["task"] = config.task
    if config.framework and config.framework != "pytorch":
        model["framework"] = config.framework
    engine = _engine(config.image.variant) or Engine.CUSTOM
    if engine is not Engine.DEFAULT:
        model["engine"] = engine.value
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
            model["image"] = image
        options = {
            option: fields[camel(option)]
            for option in sorted(ENGINE_OPTIONS[engine])
            if fields.get(camel(option)) is not None
        }
        if options:
            model["engine_options"] = options
    if config.env:
        model["env"] = dict(sorted(config.env.items()))
    if config.secret_keys:
        # The values cannot be read back; whoever applies must provide them under these names.
        model["secrets"] = {key: {"from_env": key} for key in sorted(config.secret_keys)}
    if config.command is not None:
        model["command"] = list(config.command)
    if config.args is not None:
        model["args"] = list(config.args)
    scaling: dict[str, Any] = {
        "min_replicas": config.min_replica,
        "max_replicas": config.max_replica,
    }
    if config.min_replica == 0 and config.scale_to_zero_timeout:
        scaling["scale_to_zero_timeout"] = config.scale_to_zero_timeout
    if config.metric and config.threshold is not None:
        scaling["metric"] = METRICS_BACK.get(config.metric, config.metric)
        scaling["threshold"] = config.threshold
    document: dict[str, Any] = {"name": live.name}
    if live.namespace != default_namespace:
        document["namespace"] = live.namespace
    document["model"] = model
    document["compute"] = {
        "vendor": config.vendor,
        "region": config.region,
        "accelerator": config.accelerator,
        "instance_type": config.instance_type,
        "instance_size": config.instance_size,
    }
    document["scaling"] = scaling
    document["type"] = config.type
    if config.private_link:
        document["private_link"] = {
            "account_id": config.private_link.account_id,
            "region": config.private_link.region,
        }
    route = {k: v for k, v in (("domain", config.route_domain), ("path", config.route_path)) if v}
    if route:
        document["route"] = route
    if config.cache_http_responses:
        document["cache_http_responses"] = True
    tags = ownership.user_tags(config.tags)
    if tags:
        document["tags"] = list(tags)
    if live.state is EndpointState.PAUSED:
        document["state"] = "paused"
    document["adopt"] = True
    return document
