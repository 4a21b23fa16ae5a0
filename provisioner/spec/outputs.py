"""A spec's `outputs:`: the names under which `provisioner output` hands an endpoint's values
(its URL) to applications, and the rule that gives a name when the spec sets none.

The schema checks the shape and that `url_env` is a variable name; this module derives the
default name and finds two endpoints of one output given one name (the later one's URL would
silently win in an env file). It reads nothing and sends nothing: outputs are not part of the
endpoint, and the applied digest leaves them out (`plan.desired.applied_digest`).
"""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.spec.diagnostics import Diagnostic, Mark
from provisioner.spec.model import EndpointSpec

URL_SUFFIX = "_URL"


def default_url_variable(name: str) -> str:
    """`chat-bot` -> `CHAT_BOT_URL`: names are lowercase letters, digits and '-', starting with
    a letter, so this is always a valid variable name."""
    return name.upper().replace("-", "_") + URL_SUFFIX


def url_variable(spec: EndpointSpec) -> str:
    """The variable the endpoint's URL goes in: `outputs.url_env`, else the default rule."""
    declared = spec.outputs.url_env if spec.outputs is not None else None
    return declared or default_url_variable(spec.name)


def declares_url_variable(spec: EndpointSpec) -> bool:
    return spec.outputs is not None and spec.outputs.url_env is not None


def _mark(spec: EndpointSpec) -> Mark:
    if declares_url_variable(spec):
        return spec.source.mark("outputs", "url_env")
    return spec.source.mark("name")


def clashes(specs: Sequence[EndpointSpec]) -> list[Diagnostic]:
    """One error per spec whose URL variable an earlier spec of `specs` (those output
    together) already has, at its `outputs.url_env` (or its `name`, for a default name).

    Not a rule of the stack: many endpoints may well share `HUGGINGFACE_ENDPOINT_URL`, each
    read by its own application (`provisioner output NAME`); only one output holding two of
    them would be ambiguous."""
    first: dict[str, EndpointSpec] = {}
    found = []
    for spec in specs:
        variable = url_variable(spec)
        earlier = first.get(variable)
        if earlier is None:
            first[variable] = spec
            continue
        other = f"{earlier.namespace}/{earlier.name}" if earlier.namespace else earlier.name
        found.append(
            Diagnostic(
                _mark(spec),
                f"outputs.url_env: {variable} is already the URL variable of {other} (at "
                f"{_mark(earlier)}); set `outputs: {{url_env: ...}}` in one of them to tell "
                "their URLs apart",
            )
        )
    return found
