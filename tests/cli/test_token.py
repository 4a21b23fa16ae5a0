"""The token as people set it: `HF_TOKEN=$(cat token)` leaves a newline, which is stripped (as
huggingface_hub strips it); a token still malformed is a configuration error at once, naming
`HF_TOKEN` and never showing the value, before any request and without retrying."""

from __future__ import annotations

import pytest

from provisioner.emulator import Emulator
from provisioner.hub.client import resolve_connection
from tests.reconcile.conftest import EXAMPLES, context_for
from tests.support.cli import run


@pytest.mark.parametrize("token", ["hf_demo\n", "hf_demo\r\n", "  hf_demo\t"])
def test_surrounding_whitespace_is_stripped(
    token: str, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(
        capsys, "plan", "--dir", str(EXAMPLES), context=context_for(emulator, HF_TOKEN=token)
    )
    assert result.code == 0, result.text
    assert "retrying" not in result.err
    assert resolve_connection(emulator.url, {"HF_TOKEN": token}).token == "hf_demo"


@pytest.mark.parametrize(
    "token", ["hf_de mo", "hf_demo\nhf_other", "hf_demo\x00", "hf_d\u00e9mo", "hf_demo\u200b"]
)
def test_a_malformed_token_is_a_configuration_error_at_once(
    token: str, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    before = emulator.now()
    result = run(
        capsys, "plan", "--dir", str(EXAMPLES), context=context_for(emulator, HF_TOKEN=token)
    )
    assert result.code == 1
    assert "the token in HF_TOKEN is malformed" in result.err
    assert "the value is not shown" in result.err
    assert token.strip() not in result.text
    assert "retrying" not in result.err
    assert emulator.requests() == []  # refused before any request
    assert emulator.now() == before  # and never slept on it
