"""An endpoint's replica logs (`GET /v2/endpoint/{ns}/{name}/logs`): what the lines say, and
the query that picks them (`from`, `to`, `tail`).

The lines are the endpoint's lifecycle as its containers would tell it: scheduling, the image
pulled, the container started, the health route answering, scaling, pause and resume, a delete,
and the cause of a failure (the scripted message of a `fail_deploy` / `fail_update` fault,
which may quote anything: the client must scrub what it prints). Each line is written once, at
the emulated time its segment of the timeline began, when the endpoint settles into it.

Owns the words and the query rules. It must not know about states beyond their names (it gets
them as strings, so `lifecycle` can use it), nor about HTTP or permissions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from provisioner.emulator.images import health_route, variant_of
from provisioner.emulator.wire import ApiError

# The most lines kept per endpoint: the oldest go first (a real replica's log is bounded too).
LOG_LIMIT = 1000
SCALING_UP = "Endpoint is scaling up"
WAITING = "Waiting for a node to be scheduled"

# The images the managed variants pull (a custom or container variant names its own `url`).
_IMAGES = {
    "huggingface": "registry.internal.huggingface.tech/hf-endpoints/inference-pytorch:latest",
    "huggingfaceNeuron": "registry.internal.huggingface.tech/hf-endpoints/inference-neuron:latest",
}


def _image(spec: Mapping[str, Any]) -> str:
    image = spec["model"]["image"]
    name = variant_of(image)
    body = image[name]
    if isinstance(body, dict) and isinstance(body.get("url"), str) and body["url"]:
        return str(body["url"])
    return _IMAGES.get(name, f"ghcr.io/huggingface/{name.lower()}:latest")


def _replicas(spec: Mapping[str, Any]) -> str:
    scaling = spec["compute"]["scaling"]
    return f"{scaling['minReplica']}-{scaling['maxReplica']}"


def _cause(message: str) -> list[str]:
    # A scripted message may hold line breaks: each part is a line of its own, as a container
    # printing it would give.
    return [f"Error: {part}" for part in message.splitlines() or [message]]


def segment_lines(
    state: str, message: str, *, spec: Mapping[str, Any], previous: str | None
) -> list[str]:
    """The lines an endpoint logs as it enters `state` (from `previous`: None for a new one)."""
    compute, provider = spec["compute"], spec["provider"]
    route = health_route(spec["model"]["image"])
    if state == "pending":
        if previous is None:
            return [
                f"Endpoint {spec['name']} created: {compute['instanceType']} "
                f"{compute['instanceSize']} on {provider['vendor']}/{provider['region']}, "
                f"replicas {_replicas(spec)}",
                WAITING,
            ]
        return [
            f"Starting again (replicas {_replicas(spec)})",
            WAITING,
        ]
    if state == "initializing":
        if message == SCALING_UP:
            return ["Request received while scaled to zero: starting a replica"]
        return ["Node scheduled", f"Pulling image {_image(spec)}"]
    if state == "updating":
        return [
            f"Update received: rolling out a new replica (replicas {_replicas(spec)})",
            f"Pulling image {_image(spec)}",
        ]
    if state == "running":
        done = "Update complete" if previous == "updating" else "Endpoint is ready"
        return ["Image pulled", "Container started", f"Health check {route}: 200 OK", done]
    if state == "failed":
        return [
            "Image pulled",
            "Container started",
            *_cause(message),
            "Container exited with code 1: the deployment failed",
        ]
    if state == "updateFailed":
        return [
            "Image pulled",
            "Container started",
            *_cause(message),
            "Container exited with code 1: the update failed",
        ]
    if state == "paused":
        return ["Paused: replicas stopped (0-0)"]
    if state == "scaledToZero":
        return ["Scaled to zero: no replica running (the next request starts one)"]
    return [message]


def scaling_line(before: Mapping[str, Any], after: Mapping[str, Any]) -> str | None:
    """`Scaling: replicas 1-1 -> 1-3` when an update changes the replica counts."""
    old, new = _replicas(before), _replicas(after)
    return None if old == new else f"Scaling: replicas {old} -> {new}"


def _integer(params: Mapping[str, list[str]], key: str) -> int | None:
    values = params.get(key)
    if not values:
        return None
    text = values[-1]
    # axum's `Query` extractor (serde_urlencoded) refuses what is not an unsigned integer with
    # a plain-text 400.
    if not text.isascii() or not text.isdigit():
        why = "cannot parse integer from empty string" if not text else "invalid digit found"
        raise ApiError(400, f"Failed to deserialize query string: {key}: {why}", plain=True)
    value = int(text)
    if value >= 2**63:
        raise ApiError(
            400, f"Failed to deserialize query string: {key}: number too large", plain=True
        )
    return value


def select(
    lines: Sequence[tuple[float, str]],
    params: Mapping[str, list[str]],
    *,
    epoch_seconds: Callable[[float], float],
    iso: Callable[[float], str],
) -> str:
    """The text answered for `lines` (emulated time, text) and the query: each line
    `<ISO time> <text>`, oldest first; `from` / `to` (Unix seconds, both inclusive) bound
    them, then `tail` keeps the last so many (`tail=0`: none)."""
    since, until, tail = (_integer(params, k) for k in ("from", "to", "tail"))
    chosen: Iterable[tuple[float, str]] = sorted(lines, key=lambda line: line[0])
    if since is not None:
        chosen = [line for line in chosen if epoch_seconds(line[0]) >= since]
    if until is not None:
        # A line stamped 12:00:00.500 was written during second 12:00:00: `to` includes it.
        chosen = [line for line in chosen if int(epoch_seconds(line[0])) <= until]
    picked = list(chosen)
    if tail is not None:
        picked = picked[-tail:] if tail else []
    return "".join(f"{iso(at)} {text}\n" for at, text in picked)
