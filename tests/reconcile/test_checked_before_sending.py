"""Everything that can be checked before the first mutating call is checked then: a mistake in
a spec, a secret or an option is a located error, exit 1, no traceback and no change sent. Each
of these once passed the checks and crashed or hung apply after other changes went out (issue:
reliability and security, "crashes after changes were sent")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.apply.results import Outcome, SilentReporter
from provisioner.apply.waiter import Waiter
from provisioner.apply.workflow import identify, plan_stack
from provisioner.emulator import Emulator
from tests.apply.test_workflow import connect, stack_of
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import api_calls, apply_ok, live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


@pytest.mark.parametrize(
    ("scaling", "message"),
    [
        (
            {"max_replicas": 2, "metric": "pending_requests", "threshold": float("nan")},
            "bad.yaml:15:14: error: scaling.threshold: NaN (not a number) is not allowed",
        ),
        (
            {"max_replicas": 2, "metric": "pending_requests", "threshold": float("inf")},
            "bad.yaml:15:14: error: scaling.threshold: infinite is not allowed",
        ),
        (
            {"max_replicas": 2**32},
            "bad.yaml:13:17: error: scaling.max_replicas: must be <= 4294967295, got 4294967296",
        ),
        (
            {"min_replicas": 0, "scale_to_zero_timeout": 1e20},
            "bad.yaml:14:26: error: scaling.scale_to_zero_timeout: expected an integer, got a "
            "number",
        ),
    ],
    ids=["nan", "inf", "replicas-over-u32", "timeout-1e20"],
)
def test_numbers_the_service_cannot_take_stop_apply_before_any_change(
    tmp_path: Path, cli: Cli, emulator: Emulator, scaling: dict[str, Any], message: str
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme")
    bad = write_spec(specs, "bad", namespace="acme", scaling=scaling)
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1, bad.read_text()
    assert message in result.err, bad.read_text()
    assert mutations(emulator) == []


def test_a_whole_float_for_an_integer_stops_apply_before_any_change(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """JSON Schema counts 1024.0 as an integer; it was sent as 1024.0 and the service's u32
    refused it, after the other endpoint was created."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme")
    image = {"url": "ghcr.io/huggingface/text-generation-inference:3"}
    model = {"engine": "tgi", "image": image, "engine_options": {"max_input_length": 1024.0}}
    write_spec(specs, "bad", namespace="acme", model=model)
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        "model.engine_options.max_input_length: expected an integer, got a number; write 1024"
        in result.err
    )
    assert mutations(emulator) == []


def test_an_engine_option_value_the_engine_does_not_document_stops_apply_before_any_change(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """The service passes engine options to the container unchecked: `pooling: clss` was sent,
    and the endpoint only failed when its container started."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme")
    tei = {"engine": "tei", "engine_options": {"pooling": "clss"}}
    write_spec(specs, "embed", namespace="acme", model=tei)
    vllm = {"engine": "vllm", "engine_options": {"kv_cache_dtype": "fp8_e4m4"}}
    write_spec(specs, "llm", namespace="acme", model=vllm)
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        "model.engine_options.pooling: 'clss' is not one of cls, mean, splade, last-token; "
        "did you mean 'cls'?" in result.err
    )
    assert "model.engine_options.kv_cache_dtype: 'fp8_e4m4' is not one of" in result.err
    assert "did you mean 'fp8_e4m3'?" in result.err
    assert "Traceback" not in result.err
    assert mutations(emulator) == []


def test_a_port_out_of_range_stops_apply_before_any_change(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme")
    image = {"url": "ghcr.io/huggingface/text-generation-inference:3", "port": 70000}
    write_spec(specs, "bad", namespace="acme", model={"engine": "tgi", "image": image})
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "model.image.port: must be <= 65535, got 70000" in result.err
    assert mutations(emulator) == []


def test_a_secret_that_is_not_utf8_refuses_its_endpoint_and_no_other(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """`os.environ` hands undecodable bytes over as lone surrogates, which JSON cannot carry."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "good", namespace="acme")
    write_spec(
        specs,
        "bad",
        namespace="acme",
        model={"secrets": {"API_KEY": {"from_env": "BAD_SECRET"}}},
    )
    value = b"tok\xff\xfeen".decode("utf-8", "surrogateescape")
    result = cli(
        "apply", "--dir", str(specs), "--auto-approve", ctx=context_for(emulator, BAD_SECRET=value)
    )
    assert result.code == 1
    assert (
        "acme/bad: not applied (nothing sent): secret API_KEY needs environment variable "
        "BAD_SECRET, whose value is not valid UTF-8" in result.err
    )
    assert "tok" not in result.err
    assert sorted(live(emulator)) == ["good"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--timeout", "nan", "nan is not a number of seconds from 1 to 604800"),
        ("--timeout", "inf", "inf is not a number of seconds from 1 to 604800"),
        ("--timeout", "-5", "-5 is not a number of seconds from 1 to 604800"),
        ("--timeout", "1e12", "1e12 is not a number of seconds from 1 to 604800"),
        ("--parallelism", "0", "0 is not in the range 1<=x<=64"),
        ("--parallelism", "100000", "100000 is not in the range 1<=x<=64"),
    ],
)
def test_absurd_options_are_refused_when_parsed(
    tmp_path: Path, cli: Cli, emulator: Emulator, option: str, value: str, message: str
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    result = cli("apply", "--dir", str(specs), "--auto-approve", option, value)
    assert result.code == 1
    assert f"Invalid value for '{option}': {message}" in result.err
    assert api_calls(emulator) == []


def test_an_endpoint_deleted_while_apply_waits_fails_at_once(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi
) -> None:
    """Once it took the whole --timeout (30 minutes) and then said "it may still get there"."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    deleted: list[float] = []

    def sleep(seconds: float) -> None:
        # Someone else deletes it, through the real client, while apply waits.
        if not deleted and "svc" in live(emulator):
            hf_api.delete_inference_endpoint("svc", namespace="acme")
            deleted.append(emulator.now())
        emulator.advance(seconds)

    context = replace(context_for(emulator), sleep=sleep)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=context)
    assert result.code == 1
    assert deleted
    assert "✗ acme/svc: was deleted while waiting for it to become running" in result.err
    assert "may still get there" not in result.err
    assert emulator.now() - deleted[0] <= 10  # the next tick, not the 1800 s timeout


def test_a_pause_whose_endpoint_is_gone_fails_at_the_first_tick(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi
) -> None:
    """The emulator pauses at once, so the CLI never waits on a pause: the waiter is given the
    pause's change directly, after someone deleted the endpoint."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    apply_ok(cli, specs)
    write_spec(specs, "svc", namespace="acme", state="paused")
    api = connect(emulator)
    (change,) = plan_stack(stack_of(specs), api, identify(api)).plan.actionable
    hf_api.delete_inference_endpoint("svc", namespace="acme")
    started = emulator.now()
    waiter = Waiter(api, SilentReporter(), sleep=emulator.advance, clock=emulator.now)
    (outcome,) = waiter.wait([Outcome(change, ok=True)])
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.startswith("acme/svc was deleted while waiting for it to become paused")
    assert emulator.now() - started <= 10  # the delete finishing, then the next tick


def _saved_plan(tmp_path: Path, cli: Cli) -> tuple[Path, Path, dict[str, Any]]:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    return specs, saved, json.loads(saved.read_text())


def _with_checksum(data: dict[str, Any]) -> str:
    """A hand-made plan that passes the checksum: its shape must still be checked."""
    body = {key: value for key, value in data.items() if key != "checksum"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return json.dumps({**body, "checksum": hashlib.sha256(text.encode()).hexdigest()})


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d.update(changes="oops"),
            "malformed plan: changes must be a list, not a string",
        ),
        (
            lambda d: d["changes"].__setitem__(0, ["svc"]),
            "malformed plan: changes[0] must be an object, not a list",
        ),
        (
            lambda d: d["changes"][0].update(reasons="why"),
            "malformed plan: changes[0].reasons must be a list, not a string",
        ),
        (
            lambda d: d["changes"][0].update(seen=[]),
            "malformed plan: changes[0].seen must be an object, not a list",
        ),
        (
            lambda d: d["changes"][0].update(name=7),
            "malformed plan: changes[0].name must be a string, not a number",
        ),
    ],
    ids=["changes-string", "change-list", "reasons-string", "seen-list", "name-number"],
)
def test_a_saved_plan_of_the_wrong_shape_is_a_clear_error(
    tmp_path: Path,
    cli: Cli,
    emulator: Emulator,
    edit: Callable[[dict[str, Any]], None],
    message: str,
) -> None:
    specs, saved, data = _saved_plan(tmp_path, cli)
    edit(data)
    saved.write_text(_with_checksum(data))
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert f"{saved}:1:1: error: {message}" in result.err
    assert mutations(emulator) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"format_version": "1.0",\n "stack": "\xffendpoints"}',
            ":2:12: error: not a provisioner plan: the file is not UTF-8 text (byte 0xff)",
        ),
        (b"[" * 100_000 + b"]" * 100_000, ":1:1: error: not a provisioner plan: nested too deeply"),
    ],
    ids=["not-utf8", "nested"],
)
def test_a_saved_plan_that_is_not_json_text_is_a_located_error(
    tmp_path: Path, cli: Cli, emulator: Emulator, content: bytes, message: str
) -> None:
    specs, saved, _ = _saved_plan(tmp_path, cli)
    saved.write_bytes(content)
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert f"{saved}{message}" in result.err
    assert mutations(emulator) == []
