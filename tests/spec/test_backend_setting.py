"""The `backend:` setting and PROVISIONER_BACKEND, parsed (`provisioner.spec.backend`): what a
user may write, and the sentence they get for what they may not."""

from __future__ import annotations

from typing import Any

import pytest

from provisioner.spec.backend import LOCAL, BackendConfig, parse, parse_url


def s3(bucket: str, prefix: str = "") -> BackendConfig:
    return BackendConfig(kind="s3", bucket=bucket, prefix=prefix)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("local", LOCAL),
        ("local:../state", BackendConfig(path="../state")),
        ("local:/var/lib/provisioner", BackendConfig(path="/var/lib/provisioner")),
        ("s3://acme-state", BackendConfig(kind="s3", bucket="acme-state")),
        ("s3://acme-state/", BackendConfig(kind="s3", bucket="acme-state")),
        ("s3://acme.state-2/endpoints", s3(bucket="acme.state-2", prefix="endpoints")),
        ("s3://acme-state/team-a/llm/", s3(bucket="acme-state", prefix="team-a/llm")),
        ("s3://abc/x_y.z(1)", BackendConfig(kind="s3", bucket="abc", prefix="x_y.z(1)")),
    ],
)
def test_urls_that_name_a_backend(text: str, expected: BackendConfig) -> None:
    assert parse_url(text) == expected
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "is not a backend"),
        ("Local", "is not a backend"),
        ("local:", "is not a backend"),
        ("s3:/acme-state", "is not a backend"),
        ("gs://acme-state", "is not a backend"),
        ("s3://", "is not an S3 bucket name"),
        ("s3://ab", "is not an S3 bucket name"),
        ("s3://Acme-State", "is not an S3 bucket name"),
        ("s3://acme_state", "is not an S3 bucket name"),
        ("s3://-acme", "is not an S3 bucket name"),
        ("s3://acme-", "is not an S3 bucket name"),
        ("s3://acme..state", "is not an S3 bucket name"),
        ("s3://192.168.1.7", "is not an S3 bucket name"),
        ("s3://" + "a" * 64, "is not an S3 bucket name"),
        ("s3://acme-state/../other", "key prefix"),
        ("s3://acme-state/team/../../x", "key prefix"),
        ("s3://acme-state/team/./x", "key prefix"),
        ("s3://acme-state/a//b", "key prefix"),
        ("s3://acme-state/with space", "key prefix"),
        ("s3://acme-state/naïve", "key prefix"),
    ],
)
def test_urls_refused_with_a_sentence_quoting_the_value(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as refused:
        parse_url(text)
    assert "\n" not in str(refused.value)


def test_the_longest_bucket_name_is_accepted() -> None:
    assert parse_url("s3://" + "a" * 63).bucket == "a" * 63


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"local": None}, LOCAL),
        ({"local": {}}, LOCAL),
        ({"local": {"path": "../state"}}, BackendConfig(path="../state")),
        (
            {"s3": {"bucket": "acme-state"}},
            BackendConfig(kind="s3", bucket="acme-state"),
        ),
        (
            {
                "s3": {
                    "bucket": "acme-state",
                    "prefix": "/endpoints/",
                    "region": "eu-west-1",
                    "endpoint_url": "http://127.0.0.1:9000",
                }
            },
            BackendConfig(
                kind="s3",
                bucket="acme-state",
                prefix="endpoints",
                region="eu-west-1",
                endpoint_url="http://127.0.0.1:9000",
            ),
        ),
    ],
)
def test_the_mapping_forms(value: Any, expected: BackendConfig) -> None:
    assert parse(value) == expected


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"bucket": "Acme"}, "is not an S3 bucket name"),
        ({"bucket": "acme-state", "prefix": "a/../b"}, "key prefix"),
        ({"bucket": "acme-state", "prefix": ".."}, "key prefix"),
        ({"bucket": "acme-state", "endpoint_url": "localhost:9000"}, "endpoint_url"),
        ({"bucket": "acme-state", "endpoint_url": "ftp://host"}, "endpoint_url"),
    ],
)
def test_the_mapping_form_checks_its_values(options: dict[str, str], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse({"s3": options})


@pytest.mark.parametrize(
    ("config", "shown"),
    [
        (LOCAL, "local"),
        (BackendConfig(path="../state"), "local (../state)"),
        (BackendConfig(kind="s3", bucket="acme-state"), "s3://acme-state"),
        (BackendConfig(kind="s3", bucket="acme-state", prefix="a/b"), "s3://acme-state/a/b"),
    ],
)
def test_describe_shows_the_setting_as_a_user_would_write_it(
    config: BackendConfig, shown: str
) -> None:
    assert config.describe() == shown
