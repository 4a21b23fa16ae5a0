"""`provisioner invoke NAME --data JSON` (issue 23): one request sent as an application sends it,
against the emulator: a running endpoint (authenticated: the token went with it), a scaled-to-zero
one (a cold start, on the emulator's clock), paused and private ones (refused, nothing sent), bad
JSON (refused before any call), and an answer that echoes a secret (blanked)."""

from __future__ import annotations

import io
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator
from tests.reconcile.conftest import SECRET_VALUE
from tests.reconcile.helpers import live, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
HELLO = json.dumps({"inputs": "Say hello", "parameters": {"max_new_tokens": 4}})
LINK = {"account_id": "123456789012", "region": "us-east-1"}


def posts(emu: Emulator, name: str) -> list[dict[str, Any]]:
    return [
        r
        for r in emu.requests()
        if r["method"] == "POST" and r["path"].startswith(f"/endpoints/acme/{name}")
    ]


def applied(cli: Cli, specs: Path) -> None:
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text


def test_a_running_endpoint_answers_with_the_token_of_the_environment(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme", type="authenticated")
    applied(cli, specs)
    emulator.clear_requests()
    result = cli("invoke", "chat", "--dir", str(specs), "--data", HELLO)
    assert result.code == 0, result.text
    status, answer = result.out.splitlines()
    assert status == "acme/chat: 200"
    assert json.loads(answer)[0]["generated_text"]
    # An authenticated endpoint answers only a request that carries a token.
    assert [p["status"] for p in posts(emulator, "chat")] == [200]
    assert posts(emulator, "chat")[0]["body"] == json.loads(HELLO)


def test_data_from_stdin(
    tmp_path: Path, cli: Cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme")
    applied(cli, specs)
    monkeypatch.setattr("sys.stdin", io.StringIO(HELLO))
    result = cli("invoke", "acme/chat", "--dir", str(specs), "--data", "-")
    assert result.code == 0, result.text
    assert result.out.startswith("acme/chat: 200\n")


def test_a_scaled_to_zero_endpoint_is_woken_as_a_cold_start(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    scaling = {"min_replicas": 0, "max_replicas": 1, "scale_to_zero_timeout": 15}
    write_spec(specs, "idle", namespace="acme", scaling=scaling)
    applied(cli, specs)
    emulator.advance(16 * 60)
    assert live(emulator)["idle"]["status"]["state"] == "scaledToZero"
    result = cli("invoke", "idle", "--dir", str(specs), "--data", HELLO, "--timeout", "120")
    assert result.code == 0, result.text
    statuses = [p["status"] for p in posts(emulator, "idle")]
    # The emulator's clock is frozen: it cannot hold the request for X-Scale-Up-Timeout, so it
    # answers 503 while the replica starts, and invoke sends it again until it answers.
    assert len(statuses) > 1 and set(statuses[:-1]) == {503} and statuses[-1] == 200
    assert result.out.startswith(
        f"acme/idle: 200, woken from a cold start ({len(statuses)} requests)\n"
    )


def test_a_paused_endpoint_is_an_error_saying_how_to_resume_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "asleep", namespace="acme", state="paused")
    applied(cli, specs)
    emulator.clear_requests()
    result = cli("invoke", "asleep", "--dir", str(specs), "--data", HELLO)
    assert result.code == 1
    apply_command = f"provisioner apply --dir {shlex.quote(str(specs))} --api-url {emulator.url}"
    assert (
        "acme/asleep is paused, and a paused endpoint answers nothing; to resume it, set "
        f"`state: running` in its spec ({specs / 'asleep.yaml'}:" in result.err
    ), result.err
    assert f"and run `{apply_command}`. Nothing was sent" in result.err
    assert posts(emulator, "asleep") == []


def test_private_and_missing_endpoints_are_refused_before_sending(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "inside", namespace="acme", type="private", private_link=LINK)
    applied(cli, specs)
    write_spec(specs, "later", namespace="acme")
    emulator.clear_requests()
    inside = cli("invoke", "inside", "--dir", str(specs), "--data", HELLO)
    assert inside.code == 1
    assert "acme/inside is private: it is reachable only through AWS PrivateLink" in inside.err
    later = cli("invoke", "later", "--dir", str(specs), "--data", HELLO)
    assert later.code == 1 and "acme/later is not created yet" in later.err
    unknown = cli("invoke", "nope", "--dir", str(specs), "--data", HELLO)
    assert unknown.code == 1 and "no spec in this stack is named 'nope'" in unknown.err
    assert [r for r in emulator.requests() if r["path"].startswith("/endpoints/")] == []


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ('{"inputs": "unterminated', "--data is not valid JSON (Unterminated string"),
        ('["a", "b"]', "--data is a JSON list, not an object"),
    ],
)
def test_bad_json_is_an_error_and_nothing_is_read_or_sent(
    tmp_path: Path, cli: Cli, emulator: Emulator, data: str, said: str
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme")
    result = cli("invoke", "chat", "--dir", str(specs), "--data", data)
    assert result.code == 1
    assert said in result.err and "Nothing was sent" in result.err
    assert emulator.requests() == []


def test_an_error_answer_is_shown_and_exits_1(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme")
    applied(cli, specs)
    result = cli("invoke", "chat", "--dir", str(specs), "--data", '{"prompt": "no inputs"}')
    assert result.code == 1
    assert "\nacme/chat: 422\n" in result.err
    assert "`inputs` must be provided" in result.err


def test_an_answer_that_echoes_a_secret_has_it_blanked(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    secrets = {"API_KEY": {"from_env": "SUPPORT_ASSISTANT_API_KEY"}}
    write_spec(specs, "chat", namespace="acme", model={"secrets": secrets})
    applied(cli, specs)
    echo = {"inputs": f"repeat {SECRET_VALUE}", "parameters": {"return_full_text": True}}
    result = cli("invoke", "chat", "--dir", str(specs), "--data", json.dumps(echo))
    assert result.code == 0, result.text
    assert SECRET_VALUE not in result.text  # the cli fixture checks it too
    assert "repeat ***" in result.out


def test_the_readme_s_python_call_works_as_printed(
    tmp_path: Path, cli: Cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The application's side of "Using the endpoint from an application", run against an
    endpoint whose URL `provisioner output` handed over."""
    pytest.importorskip("requests")
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat-bot", namespace="acme", outputs={"url_env": "HUGGINGFACE_ENDPOINT_URL"})
    applied(cli, specs)
    exported = cli("output", "chat-bot", "--dir", str(specs), "--format", "json")
    url = json.loads(exported.out)["values"]["HUGGINGFACE_ENDPOINT_URL"]
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("### Using the endpoint from an application") :]
    code = section[section.index("```python\n") + len("```python\n") :]
    code = code[: code.index("```")]
    monkeypatch.setenv("HUGGINGFACE_ENDPOINT_URL", url)
    monkeypatch.setenv("HF_TOKEN", "hf_demo")
    emulator.clear_requests()
    exec(compile(code, "README.md", "exec"), {})  # the documented snippet, as printed
    assert [p["status"] for p in posts(emulator, "chat-bot")] == [200, 200]


def test_a_long_answer_is_cut_short_and_says_so(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme")
    applied(cli, specs)
    long = {"inputs": "word " * 2000, "parameters": {"return_full_text": True}}
    result = cli("invoke", "chat", "--dir", str(specs), "--data", json.dumps(long))
    assert result.code == 0, result.text
    answer = result.out.splitlines()[1]
    assert answer.startswith('[{"generated_text": "word word')
    assert answer.endswith(" more characters cut]")
    assert len(answer) < 4100
