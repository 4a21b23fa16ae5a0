"""Specs back to YAML: the effective spec `show` prints, and (later) what `import` writes.

The output is itself a valid spec (the schema test holds it to that), with keys in the order a
person reads them and every default the reconciler will apply made explicit.
"""

from __future__ import annotations

from typing import Any

import yaml

from provisioner.spec.convert import unstructure
from provisioner.spec.model import EndpointSpec


def effective(spec: EndpointSpec) -> dict[str, Any]:
    """The spec as plain data, defaults filled in, undeclared optional fields left out."""
    return unstructure(spec)


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
