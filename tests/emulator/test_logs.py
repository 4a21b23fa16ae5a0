"""`GET /v2/endpoint/{ns}/{name}/logs`: the endpoint's lifecycle as time-stamped text lines,
with `from`, `to` and `tail` as the OpenAPI document has them, over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator, EmulatorConfig
from tests.support.hub import TO_RUNNING, UPDATING, create
from tests.support.raw_http import Reply, call

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)$")


def logs(emu: Emulator, name: str = "ep", query: str = "", token: str = "hf_demo") -> Reply:
    return call("GET", f"{emu.url}/v2/endpoint/demo/{name}/logs{query}", token=token)


def texts(reply: Reply) -> list[str]:
    assert reply.status == 200, reply.text
    found = [STAMP.match(line) for line in reply.text.splitlines()]
    assert all(found), reply.text
    return [m.group(2) for m in found if m]


def stamps(reply: Reply) -> list[datetime]:
    return [
        datetime.fromisoformat(m.group(1).replace("Z", "+00:00"))
        for m in (STAMP.match(line) for line in reply.text.splitlines())
        if m
    ]


def test_a_deploy_logs_its_steps_when_they_happen_stamped_with_emulated_time(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    reply = logs(emulator)
    assert reply.content_type.startswith("text/plain")
    assert texts(reply) == [
        "Endpoint ep created: intel-spr x2 on aws/us-east-1, replicas 1-1",
        "Waiting for a node to be scheduled",
    ]  # nothing of what is still to come
    emulator.advance(TO_RUNNING)
    lines = texts(logs(emulator))
    assert lines[2:] == [
        "Node scheduled",
        "Pulling image registry.internal.huggingface.tech/hf-endpoints/inference-pytorch:latest",
        "Image pulled",
        "Container started",
        "Health check /health: 200 OK",
        "Endpoint is ready",
    ]
    when = stamps(logs(emulator))
    start = emulator.clock.wall(0)
    assert when[0] == start and when[-1] == emulator.clock.wall(TO_RUNNING)
    assert when[2] == emulator.clock.wall(3)  # initializing began after the 3 s pending


def test_pause_resume_and_a_scaling_update_are_logged(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    hf_api.update_inference_endpoint("ep", namespace="demo", min_replica=1, max_replica=3)
    emulator.advance(UPDATING)
    hf_api.pause_inference_endpoint("ep", namespace="demo")
    hf_api.resume_inference_endpoint("ep", namespace="demo")
    lines = texts(logs(emulator))
    after = lines[lines.index("Endpoint is ready") + 1 :]
    assert after == [
        "Scaling: replicas 1-1 -> 1-3",
        "Update received: rolling out a new replica (replicas 1-3)",
        "Pulling image registry.internal.huggingface.tech/hf-endpoints/inference-pytorch:latest",
        "Image pulled",
        "Container started",
        "Health check /health: 200 OK",
        "Update complete",
        "Paused: replicas stopped (0-0)",
        "Starting again (replicas 1-1)",
        "Waiting for a node to be scheduled",
    ]


def test_a_failed_deploy_logs_its_cause_line_by_line(hf_api: HfApi, emulator: Emulator) -> None:
    emulator.add_fault(
        {
            "kind": "fail_deploy",
            "namespace": "demo",
            "name": "ep",
            "message": "CUDA out of memory\nwhile loading shard 2",
        }
    )
    create(hf_api)
    emulator.advance(TO_RUNNING)
    assert texts(logs(emulator))[-4:] == [
        "Container started",
        "Error: CUDA out of memory",
        "Error: while loading shard 2",
        "Container exited with code 1: the deployment failed",
    ]


def test_a_failed_update_logs_its_cause(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    emulator.add_fault(
        {"kind": "fail_update", "namespace": "demo", "name": "ep", "message": "OOM on start"}
    )
    hf_api.update_inference_endpoint("ep", namespace="demo", min_replica=1, max_replica=2)
    emulator.advance(UPDATING)
    assert texts(logs(emulator))[-2:] == [
        "Error: OOM on start",
        "Container exited with code 1: the update failed",
    ]


def test_tail_from_and_to_pick_lines_as_the_openapi_says(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    every = texts(logs(emulator))
    assert texts(logs(emulator, query="?tail=2")) == every[-2:]
    assert texts(logs(emulator, query="?tail=0")) == []
    assert texts(logs(emulator, query="?tail=999")) == every
    start = int(emulator.clock.wall(0).timestamp())
    # `from` and `to` are Unix seconds, both included; lines within a second count as it.
    running = texts(logs(emulator, query=f"?from={start + TO_RUNNING}"))
    assert running == every[-4:]
    first = texts(logs(emulator, query=f"?to={start}"))
    assert first == every[:2]
    both = texts(logs(emulator, query=f"?from={start + 1}&to={start + TO_RUNNING - 1}&tail=1"))
    assert both == [every[3]]  # the last line of initializing


@pytest.mark.parametrize("query", ["?tail=x", "?tail=-1", "?from=1.5", "?to=", "?tail=1e3"])
def test_a_query_value_that_is_not_an_unsigned_integer_is_a_plain_text_400(
    hf_api: HfApi, emulator: Emulator, query: str
) -> None:
    create(hf_api)
    reply = logs(emulator, query=query)
    assert reply.status == 400
    assert reply.content_type.startswith("text/plain")
    assert reply.text.startswith("Failed to deserialize query string: ")


def test_unknown_endpoints_unauthenticated_and_foreign_callers_are_refused(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    missing = logs(emulator, name="nope")
    assert (missing.status, missing.json()) == (404, {"error": "Endpoint 'nope' not found"})
    assert logs(emulator, token="").status == 401
    foreign = call("GET", f"{emulator.url}/v2/endpoint/elsewhere/ep/logs")
    assert foreign.status == 403  # like every route of a namespace the token cannot use
    post = call("POST", f"{emulator.url}/v2/endpoint/demo/ep/logs", {})
    assert post.status == 405


def test_a_deleted_endpoint_logs_the_delete_until_it_is_gone(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api)
    emulator.advance(TO_RUNNING)
    hf_api.delete_inference_endpoint("ep", namespace="demo")
    assert texts(logs(emulator))[-1] == "Delete requested: stopping every replica"
    emulator.advance(5)
    assert logs(emulator).status == 404


def test_logs_survive_a_restart_with_a_data_file(
    tmp_path: Path, make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    data = tmp_path / "emulator.json"
    first = make_emulator(
        EmulatorConfig(speed=0, data_file=data, epoch=datetime(2027, 1, 1, tzinfo=UTC))
    )
    create(hub_for(first))
    first.advance(TO_RUNNING)
    before = logs(first).text
    first.stop()
    second = make_emulator(EmulatorConfig(speed=0, data_file=data))
    assert logs(second).text == before
