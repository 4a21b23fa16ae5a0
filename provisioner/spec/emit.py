"""Specs back to YAML: the effective spec `show` prints, and (later) what `import` writes.

The output is itself a valid spec (the schema test holds it to that), with keys in the order a
person reads them and every default the reconciler will apply made explicit.
"""

from __future__ import annotations

from typing import Any

import yaml

from provisioner.spec.model import EndpointSpec


def _drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


def effective(spec: EndpointSpec) -> dict[str, Any]:
    """The spec as plain data, defaults filled in, undeclared optional fields left out."""
    model = spec.model
    image = None
    if model.image is not None:
        image = _drop_none(
            {
                "url": model.image.url,
                "port": model.image.port,
                "health_route": model.image.health_route,
            }
        )
    secrets = None
    if model.secrets is not None:
        secrets = {k: {"from_env": ref.from_env} for k, ref in sorted(model.secrets.items())}
    scaling = spec.scaling
    return _drop_none(
        {
            "name": spec.name,
            "namespace": spec.namespace,
            "model": _drop_none(
                {
                    "repository": model.repository,
                    "revision": model.revision,
                    "task": model.task,
                    "framework": model.framework,
                    "engine": model.engine.value,
                    "image": image,
                    "engine_options": dict(sorted(model.engine_options.items())) or None,
                    "env": None if model.env is None else dict(sorted(model.env.items())),
                    "secrets": secrets,
                    "command": None if model.command is None else list(model.command),
                    "args": None if model.args is None else list(model.args),
                }
            ),
            "compute": {
                "vendor": spec.compute.vendor,
                "region": spec.compute.region,
                "accelerator": spec.compute.accelerator,
                "instance_type": spec.compute.instance_type,
                "instance_size": spec.compute.instance_size,
            },
            "scaling": _drop_none(
                {
                    "min_replicas": scaling.min_replicas,
                    "max_replicas": scaling.max_replicas,
                    "scale_to_zero_timeout": scaling.scale_to_zero_timeout,
                    "metric": None if scaling.metric is None else scaling.metric.value,
                    "threshold": scaling.threshold,
                }
            ),
            "type": spec.type.value,
            "private_link": None
            if spec.private_link is None
            else {"account_id": spec.private_link.account_id, "region": spec.private_link.region},
            "route": None
            if spec.route is None
            else _drop_none({"domain": spec.route.domain, "path": spec.route.path}),
            "cache_http_responses": spec.cache_http_responses,
            "state": spec.state.value,
            "tags": None if spec.tags is None else list(spec.tags),
            "protect": spec.protect,
            "adopt": spec.adopt or None,
        }
    )


class _Dumper(yaml.SafeDumper):
    """Block style, and lists indented under their key as people write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump_documents(documents: list[dict[str, Any]]) -> str:
    return yaml.dump_all(
        documents,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        explicit_start=True,
        width=100,
    )
