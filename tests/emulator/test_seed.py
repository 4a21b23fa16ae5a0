"""`POST /admin/seed`: a whole fleet in one call, stored as the records a create makes (listed,
paged and read exactly like created endpoints); bad input is refused and stores nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.support.hub import TO_RUNNING, create
from tests.support.raw_http import call


def _create_body(emu: Emulator, name: str) -> dict[str, Any]:
    """The body huggingface_hub sent for the create of `name` (from the request log)."""
    (entry,) = [
        e for e in emu.requests() if e["method"] == "POST" and (e["body"] or {}).get("name") == name
    ]
    body: dict[str, Any] = entry["body"]
    return body


def _seed(emu: Emulator, payload: Any) -> Any:
    return call("POST", f"{emu.url}/admin/seed", payload, token=None)


def _renamed(doc: dict[str, Any], old: str, new: str) -> Any:
    return json.loads(json.dumps(doc).replace(old, new))


def test_a_seeded_endpoint_reads_exactly_as_a_created_one(
    emulator: Emulator, hf_api: HfApi
) -> None:
    create(hf_api, "ep-made", namespace="demo")
    body = {**_create_body(emulator, "ep-made"), "name": "ep-seeded"}
    reply = _seed(emulator, {"namespace": "demo", "endpoints": [body], "state": "pending"})
    assert reply.status == 201, reply.text
    assert reply.json() == {"namespace": "demo", "seeded": 1, "state": "pending"}
    for at in (0, TO_RUNNING):  # pending now, running after the create's timeline, as created
        emulator.advance(at)
        made = call("GET", f"{emulator.url}/v2/endpoint/demo/ep-made").json()
        seeded = call("GET", f"{emulator.url}/v2/endpoint/demo/ep-seeded").json()
        assert _renamed(seeded, "ep-seeded", "ep-made") == made
    assert made["status"]["state"] == "running"
    seen = {e.name: e.status for e in hf_api.list_inference_endpoints(namespace="demo")}
    assert seen == {"ep-made": "running", "ep-seeded": "running"}


def test_a_seeded_fleet_is_running_listed_and_paged(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    emulator = make_emulator(quotas={"*": {"aws": {"intel-spr": 10_000}}})
    hf_api = hub_for(emulator)
    create(hf_api, "template", namespace="demo")
    template = _create_body(emulator, "template")
    fleet = [{**template, "name": f"ep-{i:04d}"} for i in range(250)]
    reply = _seed(emulator, {"namespace": "demo", "endpoints": fleet})
    assert reply.status == 201, reply.text
    listed = hf_api.list_inference_endpoints(namespace="demo")
    seeded = [e for e in listed if e.name.startswith("ep-")]
    assert len(seeded) == 250
    assert {e.status for e in seeded} == {"running"}  # running at once, no time passed
    assert all(e.url for e in seeded)
    names, cursor = [], None
    while True:
        query = "limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = call("GET", f"{emulator.url}/v2/endpoint/demo?{query}").json()
        names += [i["name"] for i in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert names == [*sorted(f"ep-{i:04d}" for i in range(250)), "template"]
    one = hf_api.get_inference_endpoint("ep-0123", namespace="demo")
    assert (one.status, one.repository) == ("running", "gpt2")


def test_a_paused_fleet_holds_no_quota_and_resumes(emulator: Emulator, hf_api: HfApi) -> None:
    create(hf_api, "template", namespace="demo")
    template = _create_body(emulator, "template")
    # 40 x 2 accelerators would not fit the default quota of 60 if they were running.
    sleepers = [{**template, "name": f"sleeper-{i}"} for i in range(40)]
    reply = _seed(emulator, {"namespace": "demo", "endpoints": sleepers, "state": "paused"})
    assert reply.status == 201, reply.text
    ep = hf_api.get_inference_endpoint("sleeper-7", namespace="demo")
    assert (ep.status, ep.url, ep.raw["compute"]["scaling"]["maxReplica"]) == ("paused", None, 0)
    hf_api.resume_inference_endpoint("sleeper-7", namespace="demo")
    emulator.advance(60)
    assert hf_api.get_inference_endpoint("sleeper-7", namespace="demo").status == "running"


GOOD = {
    "name": "ok",
    "type": "protected",
    "provider": {"vendor": "aws", "region": "us-east-1"},
    "compute": {
        "accelerator": "cpu",
        "instanceType": "intel-spr",
        "instanceSize": "x2",
        "scaling": {"minReplica": 1, "maxReplica": 1},
    },
    "model": {"repository": "gpt2", "framework": "pytorch", "image": {"huggingface": {}}},
}


@pytest.mark.parametrize(
    ("payload", "status", "says"),
    [
        ([GOOD], 400, "expected"),
        ({"endpoints": [GOOD]}, 400, "namespace"),
        ({"namespace": "demo", "endpoints": GOOD}, 400, "endpoints must be a list"),
        ({"namespace": "demo", "endpoints": [GOOD], "state": "failed"}, 400, "state must be"),
        ({"namespace": "demo", "endpoints": [GOOD], "colour": 1}, 400, "unknown keys: colour"),
        ({"namespace": "demo", "endpoints": [GOOD, 3]}, 400, "endpoints[1]"),
        ({"namespace": "demo", "endpoints": [GOOD, {**GOOD, "name": "x", "type": 1}]}, 400, "[1]"),
        (
            {
                "namespace": "demo",
                "endpoints": [{**GOOD, "provider": {"vendor": "aws", "region": "mars"}}],
            },
            400,
            "endpoints[0]: Bad Request: Instance compute",
        ),
        ({"namespace": "demo", "endpoints": [GOOD, GOOD]}, 409, "endpoints[1]: Conflict"),
        (
            {"namespace": "demo", "endpoints": [{**GOOD, "name": f"n{i}"} for i in range(40)]},
            409,
            "Quota exceeded",
        ),
    ],
)
def test_bad_seed_input_is_refused_and_stores_nothing(
    emulator: Emulator, payload: Any, status: int, says: str
) -> None:
    reply = _seed(emulator, payload)
    assert reply.status == status, reply.text
    assert says in reply.json()["error"]
    assert call("GET", f"{emulator.url}/v2/endpoint/demo").json() == {"items": []}


def test_seed_only_accepts_post(emulator: Emulator) -> None:
    reply = call("GET", f"{emulator.url}/admin/seed", token=None)
    assert (reply.status, reply.headers["allow"]) == (405, "POST")
