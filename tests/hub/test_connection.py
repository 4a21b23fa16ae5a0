"""Where provisioner sends requests, and with which token."""

from __future__ import annotations

import pytest

from provisioner.emulator import Emulator
from provisioner.hub.client import (
    DEFAULT_API_URL,
    DEFAULT_HUB_URL,
    Connection,
    HubApi,
    resolve_connection,
)
from provisioner.hub.errors import ApiError, ConfigurationError
from provisioner.hub.retry import Retrier


def test_emulator_url_serves_api_and_whoami() -> None:
    connection = resolve_connection(
        "http://127.0.0.1:8790/", {"HF_TOKEN": "hf_x", "HF_ENDPOINT": "https://mirror"}
    )
    assert connection.api_url == "http://127.0.0.1:8790"
    assert connection.hub_url == "http://127.0.0.1:8790"


def test_real_service_by_default_with_hf_endpoint_for_whoami() -> None:
    connection = resolve_connection(None, {"HF_TOKEN": "hf_x"})
    assert (connection.api_url, connection.hub_url) == (DEFAULT_API_URL, DEFAULT_HUB_URL)
    mirrored = resolve_connection(None, {"HF_TOKEN": "hf_x", "HF_ENDPOINT": "https://mirror"})
    assert mirrored.hub_url == "https://mirror"


def test_env_var_and_v2_suffix_are_accepted() -> None:
    connection = resolve_connection(
        None, {"HF_TOKEN": "hf_x", "PROVISIONER_API_URL": "http://localhost:9/v2"}
    )
    assert connection.api_url == "http://localhost:9"


def test_offline_mode_is_refused_with_a_reason() -> None:
    with pytest.raises(ConfigurationError, match="HF_HUB_OFFLINE"):
        resolve_connection("http://x", {"HF_TOKEN": "hf_x", "HF_HUB_OFFLINE": "1"})


def test_missing_token_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "none"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "none2"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="set HF_TOKEN or run `hf auth login`"):
        resolve_connection("http://x", {})


def test_token_never_in_repr() -> None:
    assert "hf_secret" not in repr(Connection(token="hf_secret"))


def test_a_request_that_cannot_be_sent_is_not_retried_and_never_quotes_the_header(
    emulator: Emulator,
) -> None:
    sleeps: list[float] = []
    connection = Connection(api_url=emulator.url, hub_url=emulator.url, token="hf_demo\n")
    api = HubApi(connection, Retrier(sleep=sleeps.append))  # as if resolve_connection were skipped
    with pytest.raises(ApiError) as caught:
        api.identity()
    assert not caught.value.retryable
    assert sleeps == []
    assert "hf_demo" not in caught.value.message
    assert caught.value.message == "whoami: the request could not be sent: LocalProtocolError"


def test_surrounding_whitespace_of_a_token_is_stripped_and_inner_is_refused() -> None:
    assert resolve_connection("http://x", {"HF_TOKEN": "\thf_x \r\n"}).token == "hf_x"
    with pytest.raises(ConfigurationError, match="the token in HF_TOKEN is malformed"):
        resolve_connection("http://x", {"HF_TOKEN": "hf_x\nhf_y"})
