"""Where a stack keeps its state: the `backend:` setting and `PROVISIONER_BACKEND`, parsed.

Two kinds: `local` (a folder, by default `.provisioner/` at the root of the git repository
holding the spec directory) and `s3` (a bucket and key prefix on AWS S3 or any S3-compatible
store; credentials, region and endpoint come from the standard AWS environment unless set
here). Forms accepted, in `_settings.yaml` or the environment variable:

    backend: local
    backend: local:../state             (a folder, relative to the spec directory)
    backend: s3://bucket/some/prefix
    backend:
      s3: {bucket: acme-state, prefix: endpoints, region: eu-west-1, endpoint_url: ...}
    backend:
      local: {path: ../state}

Rule: parsing only; opening a backend is `provisioner.state`'s business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

# S3's rules for bucket names (the common subset): 3-63 lowercase letters, digits, dots, dashes.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
ENVIRONMENT = "PROVISIONER_BACKEND"


@dataclass(frozen=True, kw_only=True)
class BackendConfig:
    kind: Literal["local", "s3"] = "local"
    # local: a folder, relative to the spec directory when relative; None: the default.
    path: str | None = None
    # s3:
    bucket: str | None = None
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None

    def describe(self) -> str:
        if self.kind == "s3":
            prefix = f"/{self.prefix}" if self.prefix else ""
            return f"s3://{self.bucket}{prefix}"
        return f"local ({self.path})" if self.path else "local"


LOCAL = BackendConfig()


def _prefix(value: str) -> str:
    prefix = value.strip("/")
    bad = not _PREFIX.fullmatch(prefix) or any(p in ("", ".", "..") for p in prefix.split("/"))
    if prefix and bad:
        raise ValueError(f"key prefix {value!r} has an empty, '.' or '..' part or odd signs")
    return prefix


def _bucket(value: str) -> str:
    # S3 also refuses two periods in a row and names shaped like an IP address.
    if not _BUCKET.fullmatch(value) or ".." in value or _IP.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')"
        )
    return value


def _endpoint_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"endpoint_url {value!r} is not an http:// or https:// URL")
    return value


def parse_url(text: str) -> BackendConfig:
    """`local`, `local:PATH` or `s3://bucket[/prefix]`; `ValueError` with a sentence
    otherwise."""
    if text == "local":
        return LOCAL
    if text.startswith("local:") and text != "local:":
        return BackendConfig(path=text.removeprefix("local:"))
    if text.startswith("s3://"):
        bucket, _, prefix = text.removeprefix("s3://").partition("/")
        return BackendConfig(kind="s3", bucket=_bucket(bucket), prefix=_prefix(prefix))
    raise ValueError(
        f"{text!r} is not a backend: use 'local', 'local:PATH' or 's3://bucket/prefix'"
    )


def parse(value: Any) -> BackendConfig:
    """The `backend:` setting, already checked against the settings schema (its shape); the
    values' own rules (bucket names, prefixes) are checked here."""
    if isinstance(value, str):
        return parse_url(value)
    ((kind, options),) = value.items()
    options = options or {}
    if kind == "local":
        return BackendConfig(path=options.get("path"))
    return BackendConfig(
        kind="s3",
        bucket=_bucket(options["bucket"]),
        prefix=_prefix(options.get("prefix", "")),
        region=options.get("region"),
        endpoint_url=_endpoint_url(options.get("endpoint_url")),
    )
