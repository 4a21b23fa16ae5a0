"""What a user sees when the S3 backend cannot be used: one sentence naming the location and
what to do, never a traceback, a credential or an object's contents. Against the moto server
(real HTTP) or no server at all; the cases every backend shares are in test_contract.py."""

from __future__ import annotations

import socket
import sys

import pytest

from provisioner.state.backend import BackendError
from provisioner.state.s3 import S3Backend

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_one_sentence(error: BackendError, *, location: str) -> str:
    message = str(error)
    assert location in message
    assert "\n" not in message and "Traceback" not in message
    assert SECRET not in message and "testing" not in message
    return message


def test_an_unreachable_endpoint_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's retries back off in real time
    url = f"http://127.0.0.1:{_closed_port()}"
    backend = S3Backend("acme-state", "endpoints/prod", endpoint_url=url)
    with pytest.raises(BackendError) as failed:
        backend.read("state.json")
    message = _assert_one_sentence(failed.value, location="s3://acme-state/endpoints/prod")
    assert "cannot reach" in message and url in message


def test_credentials_in_the_endpoint_url_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    # AWS_ENDPOINT_URL (botocore reads it) with a user and password in it, as some S3-compatible
    # stores take them: the error names the host, never the credentials.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    port = _closed_port()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://minio-user:{SECRET}@127.0.0.1:{port}")
    backend = S3Backend("acme-state", "endpoints/prod")
    with pytest.raises(BackendError) as failed:
        backend.read("state.json")
    message = _assert_one_sentence(failed.value, location="s3://acme-state/endpoints/prod")
    assert f"http://***@127.0.0.1:{port}" in message
    assert "minio-user" not in message


def test_missing_credentials_say_where_credentials_come_from(
    monkeypatch: pytest.MonkeyPatch, moto_server: str
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # No instance metadata service to ask in a test: botocore would wait for it.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    backend = S3Backend("acme-state", "prod", endpoint_url=moto_server)
    with pytest.raises(BackendError) as failed:
        backend.write("state.json", b"{}", replaces=None)
    message = _assert_one_sentence(failed.value, location="s3://acme-state/prod")
    assert "no AWS credentials" in message and "AWS_PROFILE" in message


def test_a_missing_profile_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(BackendError) as failed:
        S3Backend("acme-state", "prod")
    message = _assert_one_sentence(failed.value, location="s3://acme-state/prod")
    assert "no-such-profile" in message


def test_a_bad_region_or_endpoint_url_is_refused_when_opening() -> None:
    with pytest.raises(BackendError, match="region"):
        S3Backend("acme-state", "prod", region="not a region!")
    with pytest.raises(BackendError, match="not a URL"):
        S3Backend("acme-state", "prod", endpoint_url="localhost:9000")


def test_secrets_in_the_environment_never_reach_a_message(
    monkeypatch: pytest.MonkeyPatch, moto_server: str
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    backend = S3Backend("no-such-bucket", "prod", endpoint_url=moto_server)
    with pytest.raises(BackendError) as failed:
        backend.write("state.json", SECRET.encode(), replaces=None)
    message = _assert_one_sentence(failed.value, location="s3://no-such-bucket/prod")
    assert "does not exist" in message


def test_without_boto3_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # what `import boto3` sees when absent
    with pytest.raises(BackendError) as failed:
        S3Backend("acme-state", "prod")
    assert (
        str(failed.value)
        == "the S3 backend needs boto3: pip install 'hf-endpoints-provisioner[s3]'"
    )


def test_the_location_of_a_bucket_root() -> None:
    assert S3Backend("acme-state", "").location == "s3://acme-state"
    assert S3Backend("acme-state", "/a/b/").location == "s3://acme-state/a/b"
