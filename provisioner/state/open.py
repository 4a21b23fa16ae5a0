"""Opening a stack's backend from the `backend:` setting: where its objects live.

local: `<path>/<stack>/`, where `path` is the setting's folder (relative to the spec directory),
by default `.provisioner/` at the root of the git repository holding the spec directory (so every
spec directory of a repository shares one state folder, and it is git-ignored), or in the spec
directory itself outside a repository. s3: `s3://<bucket>/<prefix>/<stack>/`.

Rule: no I/O beyond finding the git root; the backends create what they need on first write.
"""

from __future__ import annotations

from pathlib import Path

from provisioner.spec.backend import BackendConfig
from provisioner.spec.discover import STATE_FOLDER, git_root
from provisioner.state.backend import Backend, BackendError
from provisioner.state.local import LocalBackend
from provisioner.state.s3 import S3Backend

DEFAULT_FOLDER = STATE_FOLDER


def local_base(config: BackendConfig, *, spec_root: Path) -> Path:
    """The folder holding every stack's local state folder."""
    if config.path:
        return spec_root.absolute() / config.path  # an absolute `path` wins the join
    return (git_root(spec_root) or spec_root.absolute()) / DEFAULT_FOLDER


def open_backend(config: BackendConfig, stack: str, *, spec_root: Path) -> Backend:
    """The backend holding `stack`'s objects; `BackendError` when it cannot be opened (boto3
    missing, a bad region...)."""
    if stack in ("", ".", "..") or stack.startswith(".") or "/" in stack or "\\" in stack:
        raise ValueError(f"bad stack name {stack!r}")  # the spec layer's rules keep it out
    if config.kind == "local":
        return LocalBackend(local_base(config, spec_root=spec_root) / stack)
    if not config.bucket:
        raise BackendError("the s3 backend needs a bucket")
    prefix = f"{config.prefix.strip('/')}/{stack}" if config.prefix.strip("/") else stack
    return S3Backend(config.bucket, prefix, region=config.region, endpoint_url=config.endpoint_url)
