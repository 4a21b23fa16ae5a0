"""Where provisioner sends requests, and with which token."""

from __future__ import annotations

import pytest

from provisioner.hub.client import (
    DEFAULT_API_URL,
    DEFAULT_HUB_URL,
    Connection,
    resolve_connection,
)
from provisioner.hub.errors import ConfigurationError


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
