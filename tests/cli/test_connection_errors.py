"""Connection problems name the URL tried and fail fast: a malformed API URL before any request,
a host name that does not resolve without retrying, a refused connection after one quick retry
with the hint to start the emulator or check the URL."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from provisioner.cli.context import Context
from tests.reconcile.helpers import write_spec
from tests.support.cli import run


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: nothing listens


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    folder = tmp_path / "endpoints"
    write_spec(folder, "svc", namespace="acme")
    return folder


def _context(slept: list[float]) -> Context:
    return Context(environ={"HF_TOKEN": "hf_demo"}, sleep=slept.append, clock=lambda: 0.0)


def test_a_refused_connection_is_retried_once_then_names_the_url_and_the_fix(
    specs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slept: list[float] = []
    url = f"http://127.0.0.1:{_closed_port()}"
    result = run(capsys, "plan", "--dir", str(specs), "--api-url", url, context=_context(slept))
    assert result.code == 1
    assert (
        f"error: cannot identify the token's user: whoami: cannot connect to {url}: connection "
        "refused (nothing listens there); start the emulator (`provisioner emulator`) or check "
        "--api-url / PROVISIONER_API_URL"
    ) in result.err
    assert len(slept) == 1 and slept[0] <= 0.5  # one quick retry, not a minute of backoff


def test_a_host_name_that_does_not_resolve_is_not_retried(
    specs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slept: list[float] = []
    url = "http://no-such-host.invalid"
    result = run(capsys, "plan", "--dir", str(specs), "--api-url", url, context=_context(slept))
    assert result.code == 1
    assert f"cannot connect to {url}: its host name does not resolve" in result.err
    assert "retrying" not in result.err and slept == []


@pytest.mark.parametrize("url", ["htp:/bad url", "127.0.0.1:8790", "http://", "ftp://host"])
def test_a_malformed_api_url_is_refused_before_any_request(
    url: str, specs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slept: list[float] = []
    result = run(capsys, "plan", "--dir", str(specs), "--api-url", url, context=_context(slept))
    assert result.code == 1
    refused = f"error: --api-url / PROVISIONER_API_URL: {url!r} is not an http:// or https:// URL"
    assert refused in result.err
    assert slept == [] and "cannot connect" not in result.err


def test_a_malformed_url_in_the_environment_names_the_variable(
    specs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = Context(environ={"HF_TOKEN": "hf_demo", "PROVISIONER_API_URL": "localhost:8790"})
    result = run(capsys, "plan", "--dir", str(specs), context=context)
    assert result.code == 1
    assert "PROVISIONER_API_URL: 'localhost:8790' is not an http:// or https:// URL" in result.err
