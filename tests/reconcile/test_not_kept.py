"""Read-back is law: a declared value the service does not keep is reported once, at the spec's
line, by its spec path; recorded in the state; and from then on shown by plan as "not kept by
the service" instead of planned again, until the spec or the service changes. No apply sends
again what the last one sent and saw not stick (`--resend-not-kept` does, when asked).

The emulator's `drop_undocumented_options` drops vLLM's `maxModelLen` and
`gpuMemoryUtilization` (which the official engine docs do not list), as huggingface_hub says
the API drops what an engine does not declare; without it, they are kept and nothing is said."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from provisioner.state.local import LocalBackend
from provisioner.state.store import StateStore
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
LLM = {
    "model": {
        "repository": "Qwen/Qwen2.5-7B-Instruct",
        "task": "text-generation",
        "engine": "vllm",
        "engine_options": {"max_model_len": 8192, "gpu_memory_utilization": 0.9},
    },
    "compute": {"accelerator": "gpu", "instance_type": "nvidia-l4", "instance_size": "x1"},
}


@pytest.fixture
def dropping(make_emulator: Callable[..., Emulator]) -> Emulator:
    return make_emulator(drop_undocumented_options=True)


def _run(cli: Cli, emu: Emulator, *args: str) -> Result:
    return cli(*args, ctx=context_for(emu))


def _line_of(path: Path, key: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if key in line)


def _not_kept(specs: Path) -> list[dict[str, object]]:
    state = json.loads((specs / ".provisioner" / "endpoints" / "state.json").read_text())
    return list(state["endpoints"]["demo/llm"].get("not_kept", []))


def test_a_value_the_service_drops_is_reported_once_then_never_sent_again(
    tmp_path: Path, cli: Cli, dropping: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    spec = write_spec(specs, "llm", **LLM)
    created = _run(cli, dropping, "apply", "--dir", str(specs), "--auto-approve")
    assert created.code == 0, created.text
    line = _line_of(spec, "max_model_len")
    assert (
        f"{spec}:{line}:20: warning: model.engine_options.max_model_len: demo/llm: the service "
        "accepted the create but did not keep 8192 (it reports none)"
    ) in created.err, created.err
    assert "model.engine_options.gpu_memory_utilization: demo/llm:" in created.err
    hint = re.search(r"`(provisioner apply [^`]*--resend-not-kept)` to try again", created.err)
    assert hint is not None, created.err
    assert "maxModelLen" not in live(dropping, "demo")["llm"]["model"]["image"]["vLLM"]
    assert {f["path"] for f in _not_kept(specs)} == {
        "model.engine_options.max_model_len",
        "model.engine_options.gpu_memory_utilization",
    }

    planned = _run(cli, dropping, "plan", "--dir", str(specs), "--detailed-exitcode")
    assert planned.code == 0, planned.text  # nothing to do: no perpetual redeploy
    assert "not kept by the service (sent last time, not again until" in planned.out
    assert "  + model.engine_options.max_model_len: 8192\n" in planned.out, planned.out
    assert (
        f"{spec}:{line}:20: warning: model.engine_options.max_model_len: not kept by the "
        "service: the last apply sent 8192 and the service reports none; it is not sent again "
        "until the spec's value or the service's answer changes (the engine may not support it: "
        "remove it from the spec, or `provisioner apply --resend-not-kept --dir "
        f"{specs} --api-url {dropping.url}` to try again)"
    ) in planned.err, planned.err

    # The hint, as printed (plus --auto-approve: no terminal to confirm on): it sends them again.
    dropping.clear_requests()
    resent = _run(cli, dropping, *shlex.split(hint.group(1))[1:], "--auto-approve")
    assert resent.code == 0, resent.text
    assert [m for m, _ in mutations(dropping)] == ["PUT"]
    assert "did not keep 8192" in resent.err  # and judges them again

    dropping.clear_requests()
    for args in (("--auto-approve",), ("--auto-approve", "--scheduled")):
        again = _run(cli, dropping, "apply", "--dir", str(specs), *args)
        assert again.code == 0, again.text
        assert "No changes" in again.text
    assert mutations(dropping) == []  # neither a manual nor the scheduled apply re-sends it


def test_a_changed_value_is_sent_again_and_judged_again(
    tmp_path: Path, cli: Cli, dropping: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "llm", **LLM)
    assert _run(cli, dropping, "apply", "--dir", str(specs), "--auto-approve").code == 0
    options = {"max_model_len": 4096, "gpu_memory_utilization": 0.9}
    write_spec(specs, "llm", **{**LLM, "model": {**LLM["model"], "engine_options": options}})  # type: ignore[dict-item]
    planned = _run(cli, dropping, "plan", "--dir", str(specs))
    assert "    + model.engine_options.max_model_len: 4096\n" in planned.out, planned.out
    assert "1 to update" in planned.out
    dropping.clear_requests()
    applied = _run(cli, dropping, "apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert [m for m, _ in mutations(dropping)] == ["PUT"]
    assert "did not keep 4096" in applied.err
    recorded = {f["path"]: f["after"] for f in _not_kept(specs)}
    assert recorded["model.engine_options.max_model_len"] == 4096


def test_resend_not_kept_sends_it_again_when_asked(
    tmp_path: Path, cli: Cli, dropping: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "llm", **LLM)
    assert _run(cli, dropping, "apply", "--dir", str(specs), "--auto-approve").code == 0
    planned = _run(cli, dropping, "plan", "--dir", str(specs), "--resend-not-kept")
    assert "sent again, although the service did not keep them last time" in planned.out
    out = tmp_path / "plan.json"
    saved = _run(cli, dropping, "plan", "--dir", str(specs), "--resend-not-kept", "--out", str(out))
    assert saved.code == 0, saved.text
    dropping.clear_requests()
    # A saved plan made with it applies as saved: the option is read from its reasons.
    applied = _run(cli, dropping, "apply", str(out), "--dir", str(specs))
    assert applied.code == 0, applied.text
    assert [m for m, _ in mutations(dropping)] == ["PUT"]


def test_a_service_that_keeps_the_values_is_not_warned_about(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "llm", **LLM)
    applied = _run(cli, emulator, "apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert "did not keep" not in applied.text
    assert _not_kept(specs) == []
    assert live(emulator, "demo")["llm"]["model"]["image"]["vLLM"]["maxModelLen"] == 8192


def test_the_record_survives_reading_the_state_back(
    tmp_path: Path, cli: Cli, dropping: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "llm", **LLM)
    assert _run(cli, dropping, "apply", "--dir", str(specs), "--auto-approve").code == 0
    backend = LocalBackend(specs / ".provisioner" / "endpoints")
    store = StateStore(backend, "endpoints", now=lambda: datetime.now(UTC))
    record = store.read().endpoints["demo/llm"]
    assert {f["after"] for f in record.not_kept} == {8192, 0.9}
    assert all(f["before"] is None for f in record.not_kept)
