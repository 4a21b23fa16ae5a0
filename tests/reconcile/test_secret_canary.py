"""A secret scanner (issue: reliability, "leaks"): a canary secret value and a canary token go
through every command, every output format and the error paths; nothing written anywhere (stdout,
stderr, the saved plan, imported specs, the state and history, the debug log) may contain either.
The service is hostile too (issue 21): it quotes a body it rejects, and an endpoint echoes a
previous value of the secret after a rotation."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from provisioner.cli.context import Context
from provisioner.cli.main import main
from provisioner.emulator import Emulator, EmulatorConfig, TokenConfig, UserConfig
from tests.reconcile.helpers import write_spec
from tests.support.cli import Result, run

TOKEN = "hf_CanaryTokenZ9y8x7w6v5u4t3s2r1q0p"
SECRET = "canary-secret-Q7T4-never-print-me"
ROTATED = "canary-rotated-W2K9-never-print-me"


@pytest.mark.slow
def test_no_output_or_file_ever_holds_the_token_or_a_secret(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make_emulator: Callable[..., Emulator],
    hub_for: Callable[..., HfApi],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = UserConfig(name="demo", tokens=(TokenConfig(TOKEN),), orgs=("acme",))
    emulator = make_emulator(EmulatorConfig(speed=0, users=(user,)))
    debug_log = tmp_path / "debug.log"
    monkeypatch.setenv("PROVISIONER_DEBUG_LOG", str(debug_log))
    context = Context(
        environ={
            "HF_TOKEN": TOKEN,
            "PROVISIONER_API_URL": emulator.url,
            "CANARY": SECRET,
            "PROVISIONER_DEBUG_LOG": str(debug_log),
        },
        sleep=emulator.advance,
        clock=emulator.now,
        rng=random.Random(0),
        is_tty=lambda: False,
        stdin_is_tty=lambda: False,
    )
    specs = tmp_path / "endpoints"
    secrets = {"API_KEY": {"from_env": "CANARY"}}
    write_spec(specs, "svc", namespace="acme", model={"secrets": secrets})
    saved = tmp_path / "plan.json"
    seen: list[Result] = []

    def cli(*args: str) -> Result:
        result = run(capsys, *args, context=context)
        seen.append(result)
        return result

    cli("validate", "--dir", str(specs))
    cli("show", "--dir", str(specs))
    cli("plan", "--dir", str(specs), "--json")
    cli("plan", "--dir", str(specs), "--out", str(saved))
    cli("plan", "--dir", str(specs), "--format", "markdown")
    for view in ("text", "markdown", "json"):
        cli("show-plan", str(saved), "--format", view)
    assert cli("apply", str(saved), "--dir", str(specs), "--auto-approve").code == 0
    assert cli("apply", "--dir", str(specs), "--auto-approve", "--resend-secrets").code == 0
    # A 422 that quotes the PUT body, the secret value in it: printed and recorded blanked.
    emulator.add_fault(
        {"kind": "http", "method": "PUT", "path": "*", "status": 422, "echo_body": True}
    )
    assert cli("apply", "--dir", str(specs), "--auto-approve", "--resend-secrets").code == 1
    cli("status", "--dir", str(specs))
    # A smoke test whose model echoes its input, the token and the secret: a failing answer is
    # shown, both blanked.
    echo = {"inputs": f"{TOKEN} {SECRET}", "parameters": {"return_full_text": True}}
    smoke = {"request": echo, "expect": {"status": 201}}
    write_spec(specs, "svc", namespace="acme", model={"secrets": secrets}, smoke=smoke)
    for output in ("text", "json"):
        assert cli("smoke", "--dir", str(specs), "--format", output).code == 1
    # Rotated in the environment, not yet applied: the endpoint echoes the previous value,
    # which only its fingerprint in the state can tell.
    context.environ["CANARY"] = ROTATED  # type: ignore[index]
    for output in ("text", "json"):
        assert cli("smoke", "--dir", str(specs), "--format", output).code == 1
    context.environ["CANARY"] = SECRET  # type: ignore[index]
    # What applications are handed, and a request sent as one sends it, the model echoing the
    # token and the secret: the answer is shown, both blanked.
    for output in ("env", "dotenv", "json"):
        assert cli("output", "--dir", str(specs), "--format", output).code == 0
    data = json.dumps(echo)
    assert cli("invoke", "svc", "--dir", str(specs), "--data", data).code == 0
    assert "***" in seen[-1].out

    def leaky(*_: object) -> object:
        raise RuntimeError(f"a bug, holding {SECRET} and {TOKEN}")

    # An internal error: the traceback goes to the debug log, scrubbed by value.
    with pytest.raises(SystemExit):
        main(["plan", "--dir", str(specs)], context=replace(context, api_factory=leaky))
    seen.append(Result(1, *capsys.readouterr()))
    assert "RuntimeError" in debug_log.read_text()
    for listing in (
        ("history",),
        ("history", "--json"),
        ("state", "show"),
        ("state", "show", "--json"),
    ):
        assert cli(*listing, "--dir", str(specs)).code == 0
    byhand = hub_for(emulator, token=TOKEN)
    byhand.create_inference_endpoint(
        "byhand",
        namespace="acme",
        repository="gpt2",
        framework="pytorch",
        accelerator="cpu",
        instance_type="intel-spr",
        instance_size="x2",
        vendor="aws",
        region="us-east-1",
        secrets={"K": SECRET},
        env={"LOOKS_LIKE_A_TOKEN": TOKEN},
        token=TOKEN,
    )
    imported = tmp_path / "imported"
    imported.mkdir()
    assert cli("import", "byhand", "--dir", str(imported), "--namespace", "acme").code == 0
    write_spec(
        specs, "svc", namespace="acme", model={"secrets": secrets}, scaling={"min_replicas": 9}
    )
    cli("apply", "--dir", str(specs), "--auto-approve")  # refused by validate: an error path
    emulator.add_fault({"kind": "http", "method": "*", "path": "*", "status": 500, "count": 99})
    cli("plan", "--dir", str(specs))  # retries, then gives up: another error path
    emulator.clear_faults()

    assert cli("destroy", "--dir", str(specs), "--auto-approve", "--allow-mass-delete").code in (
        0,
        1,
    )

    written = [r.text for r in seen]
    state = specs / ".provisioner" / "endpoints"  # the stack's state, history and key
    assert (state / "state.json").is_file() and list((state / "history").iterdir())
    for path in [saved, debug_log, *tmp_path.rglob("*")]:
        if path.is_file():
            written.append(path.read_text(errors="replace"))
    for text in written:
        assert TOKEN not in text
        assert SECRET not in text
        assert ROTATED not in text
    assert any("API_KEY" in text for text in written)  # the names are shown, never the values


def test_an_added_env_value_that_looks_like_a_token_is_never_shown_in_a_plan(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """validate warns about it; the plan shows the key, never the value (the live side has no
    such key, so only the desired value tells that it is a token). The JSON plan is not
    checked: it carries the desired configuration, env values included, for `apply PLAN`."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", model={"env": {"HUB": TOKEN}})
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert "+ model.env.HUB: (sensitive)" in plan.out
    assert TOKEN not in plan.text
