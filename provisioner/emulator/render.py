"""Endpoint records as the API returns them (`<endpoint>` in the reference, section 2).

Owns the response shape: every key `InferenceEndpoint._populate_from_raw` requires (top-level
`healthRoute`, `model.revision`/`model.task`, `status.createdAt`/`updatedAt`), server-filled fields
(`compute.id`, scaling `metric`/`measure`, image defaults), and what is hidden: secret values (keys
only), registry credentials (`{"username": "", "password": null}`), `status.url` while paused. It
must not change a record.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

from provisioner.emulator.auth import hub_id
from provisioner.emulator.lifecycle import SCALING_UP_MESSAGE, Record, State
from provisioner.emulator.schema import endpoint_health_route

# Third-party providers report the API injecting an HF_TOKEN env var into every endpoint, but the
# realistic captures show `env: {}`: off by default, `EmulatorConfig.inject_hf_token` turns it on
# so that tests can prove provisioner works either way. Its value is never the caller's token.
# Likewise `EmulatorConfig.omit_secrets` leaves `model.secrets` out of every response: whether the
# real service echoes secret names is unknown (reference section 9). And
# `EmulatorConfig.legacy_protected` answers an `authenticated` endpoint's type by its name before
# the rename, `protected` (reference section 2), as old endpoints may still be answered.
INJECTED_ENV = "HF_TOKEN"
INJECTED_ENV_VALUE = "***"
LEGACY_TYPES = {"authenticated": "protected"}

_NO_REPLICAS = frozenset({State.PAUSED, State.SCALED_TO_ZERO})


def encoded(
    rec: Record,
    *,
    base_url: str,
    iso: Callable[[float], str],
    inject_env: bool = False,
    omit_secrets: bool = False,
    legacy_type: bool = False,
) -> str:
    """`render` as JSON text, cached on the record until it changes: listing 5 000 unchanged
    endpoints then costs one string join."""
    key = (rec.rev, base_url, inject_env, omit_secrets, legacy_type)
    if rec.rendered is None or rec.rendered[0] != key:
        doc = render(
            rec,
            base_url=base_url,
            iso=iso,
            inject_env=inject_env,
            omit_secrets=omit_secrets,
            legacy_type=legacy_type,
        )
        rec.rendered = (key, json.dumps(doc))
    return rec.rendered[1]


# Between a name and its generation in a URL: never part of a name (lowercase, digits and '-').
GENERATION_MARK = "~"


def endpoint_url(base_url: str, namespace: str, name: str, generation: int = 1) -> str:
    """`{base}/endpoints/{ns}/{name}`, and `.../{name}~2` for the name's second endpoint."""
    suffix = f"{GENERATION_MARK}{generation}" if generation > 1 else ""
    return f"{base_url}/endpoints/{namespace}/{name}{suffix}"


def split_generation(segment: str) -> tuple[str, int | None]:
    """`chat~2` -> ("chat", 2), `chat` -> ("chat", 1); a mark without a number: None."""
    name, mark, number = segment.partition(GENERATION_MARK)
    if not mark:
        return name, 1
    return name, int(number) if number.isdigit() and int(number) > 1 else None


def render(
    rec: Record,
    *,
    base_url: str,
    iso: Callable[[float], str],
    inject_env: bool = False,
    omit_secrets: bool = False,
    legacy_type: bool = False,
) -> dict[str, Any]:
    spec = rec.spec
    compute, provider, model = spec["compute"], spec["provider"], spec["model"]
    scaling = compute["scaling"]
    cur = rec.current
    out: dict[str, Any] = {
        "accountId": None,
        "compute": {
            "accelerator": compute["accelerator"],
            "id": "-".join(
                (
                    provider["vendor"],
                    provider["region"],
                    compute["instanceType"],
                    compute["instanceSize"],
                )
            ),
            "instanceSize": compute["instanceSize"],
            "instanceType": compute["instanceType"],
            "scaling": {
                "maxReplica": scaling["maxReplica"],
                "measure": {scaling["metric"]: scaling["threshold"]},
                "metric": scaling["metric"],
                "minReplica": scaling["minReplica"],
                "scaleToZeroTimeout": scaling["scaleToZeroTimeout"],
            },
        },
        "healthRoute": endpoint_health_route(spec),
        "model": _model(model, inject_env=inject_env, omit_secrets=omit_secrets),
        "name": spec["name"],
        "provider": dict(provider),
        "status": _status(rec, base_url=base_url, iso=iso),
        "tags": list(spec["tags"]),
        "type": LEGACY_TYPES.get(spec["type"], spec["type"]) if legacy_type else spec["type"],
    }
    for key in ("route", "cacheHttpResponses", "privateService"):
        if spec[key] is not None:
            out[key] = copy.deepcopy(spec[key])
    if cur.state is State.FAILED:
        out["status"]["errorMessage"] = cur.message
    return out


def _model(model: dict[str, Any], *, inject_env: bool, omit_secrets: bool) -> dict[str, Any]:
    env = dict(model["env"])
    if inject_env:
        env.setdefault(INJECTED_ENV, INJECTED_ENV_VALUE)
    out: dict[str, Any] = {
        "env": env,
        "framework": model["framework"],
        "image": copy.deepcopy(model["image"]),
        "repository": model["repository"],
        "revision": model["revision"],
        "secrets": dict(model["secrets"]),
        "task": model["task"],
    }
    if omit_secrets:
        del out["secrets"]
    for key in ("command", "args"):
        if model[key] is not None:
            out[key] = list(model[key])
    return out


def _status(rec: Record, *, base_url: str, iso: Callable[[float], str]) -> dict[str, Any]:
    cur = rec.current
    scaling = rec.spec["compute"]["scaling"]
    wanted = max(int(scaling["minReplica"]), 1)
    if cur.state in _NO_REPLICAS:
        ready, target = 0, 0
    elif cur.state is State.RUNNING:
        ready, target = wanted, wanted
    elif cur.message == SCALING_UP_MESSAGE:
        ready, target = 0, 1
    else:
        ready, target = 0, wanted
    status: dict[str, Any] = {
        "createdAt": iso(rec.created_at),
        "createdBy": {"id": hub_id(rec.created_by), "name": rec.created_by},
        "message": cur.message,
        "private": _private(rec),
        "readyReplica": ready,
        "state": cur.state.value,
        "targetReplica": target,
        "updatedAt": iso(rec.updated_at),
        "updatedBy": {"id": hub_id(rec.updated_by), "name": rec.updated_by},
    }
    if cur.url:
        status["url"] = endpoint_url(base_url, rec.namespace, rec.name, rec.generation)
    return status


def _private(rec: Record) -> dict[str, str] | None:
    service = rec.spec["privateService"]
    if rec.spec["type"] != "private" or service is None:
        return None
    digest = hashlib.sha1(f"{rec.namespace}/{rec.name}".encode()).hexdigest()[:17]
    return {"serviceName": f"com.amazonaws.vpce.{service['region']}.vpce-svc-{digest}"}
