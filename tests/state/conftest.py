"""The contract suite's targets: every state backend, behind one fixture.

`make_backend` is parametrised over three targets and returns an `Opener`: each call opens a NEW
backend instance on the same storage, so two instances are two processes' views of one stack.

    local      a folder under tmp_path
    s3-mock    moto's `mock_aws`, in process
    s3-server  a real moto server process (one per session, on a port the OS picks), reached
               over HTTP through botocore exactly as a real S3-compatible store would be; a
               fresh bucket per test

AWS credentials and region are fake and set per test; the user's ~/.aws files are hidden.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provisioner.spec.backend import BackendConfig
from provisioner.state.backend import Backend
from provisioner.state.open import open_backend
from provisioner.state.s3 import S3Backend
from tests.state import moto_atomic

TARGETS = ("local", "s3-mock", "s3-server")
REGION = "us-east-1"
PREFIX = "team"


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials; nothing from the environment or ~/.aws leaks in (or out)."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The URL of a moto server process, started once, killed at the end of the session."""
    script = Path(__file__).parent / "moto_server.py"
    process = subprocess.Popen(
        [sys.executable, str(script), "-H", "127.0.0.1", "-p", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    url = None
    # Werkzeug says where it listens once the socket is bound: no polling, no sleeping.
    for line in process.stderr:
        match = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
        if match:
            url = match.group(1)
            break
    if url is None:
        process.kill()
        pytest.fail(f"moto server did not start (exit code {process.wait()})")
    # Keep reading its request log, or a full pipe would block the server.
    threading.Thread(target=process.stderr.read, daemon=True).start()
    try:
        yield url
    finally:
        process.kill()
        process.wait()


@dataclass
class Opener:
    """Opens backends on one target's storage: `opener()` (the stack under test) or
    `opener("other")` (a sibling stack on the same storage)."""

    target: str
    config: BackendConfig
    spec_root: Path
    # What a child process needs to open the same stack (None: it cannot, in-process mock).
    child: dict[str, Any] | None = None
    session: Any = None
    # Every instance opened stays alive until the test ends: a local backend dropped while it
    # holds the lock would release it when collected, as its process ending would.
    opened: list[Backend] = field(default_factory=list)

    def __call__(self, stack: str = "prod") -> Backend:
        if self.session is None:
            backend = open_backend(self.config, stack, spec_root=self.spec_root)
        else:
            # open_backend's S3 path (tests/state/test_open.py), with one boto3 session for the
            # whole test: a client from a fresh session takes ~0.2 s to build.
            assert self.config.bucket is not None
            backend = S3Backend(
                self.config.bucket,
                f"{self.config.prefix}/{stack}",
                endpoint_url=self.config.endpoint_url,
                session=self.session,
            )
        self.opened.append(backend)
        return backend

    @property
    def is_local(self) -> bool:
        return self.target == "local"


def _bucket() -> str:
    return f"state-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def boto_session() -> Any:
    """One boto3 session for the run: its first client loads S3's model (~0.3 s), the next take
    milliseconds. Made after moto is imported, so `mock_aws` can intercept its clients. Its
    credentials are `fake_aws`'s, the same in every test."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        return boto3.session.Session(region_name=REGION)


@pytest.fixture(params=TARGETS)
def make_backend(
    request: pytest.FixtureRequest, tmp_path: Path, boto_session: Any
) -> Iterator[Opener]:
    target: str = request.param
    if target == "local":
        state = tmp_path / "state"
        yield Opener(
            target,
            BackendConfig(path=str(state)),
            tmp_path,
            child={"kind": "local", "directory": str(state / "prod")},
        )
    elif target == "s3-mock":
        moto_atomic.patch()
        with mock_aws():
            bucket = _bucket()
            boto_session.client("s3").create_bucket(Bucket=bucket)
            yield Opener(
                target,
                BackendConfig(kind="s3", bucket=bucket, prefix=PREFIX),
                tmp_path,
                session=boto_session,
            )
    else:
        url: str = request.getfixturevalue("moto_server")
        bucket = _bucket()
        boto_session.client("s3", endpoint_url=url).create_bucket(Bucket=bucket)
        yield Opener(
            target,
            BackendConfig(kind="s3", bucket=bucket, prefix=PREFIX, endpoint_url=url),
            tmp_path,
            child={"kind": "s3", "bucket": bucket, "prefix": f"{PREFIX}/prod", "url": url},
            session=boto_session,
        )


# A process that takes the lock, says so, and waits to be killed (it never releases it).
_HOLDER = """
import json, os, sys
from pathlib import Path
from provisioner.state.backend import LockInfo
where = json.loads(sys.argv[1])
if where["kind"] == "local":
    from provisioner.state.local import LocalBackend
    backend = LocalBackend(Path(where["directory"]))
else:
    from provisioner.state.s3 import S3Backend
    backend = S3Backend(where["bucket"], where["prefix"], endpoint_url=where["url"])
backend.acquire(LockInfo(**json.loads(sys.argv[2]), pid=os.getpid()))
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def spawn_holder() -> Iterator[Callable[[dict[str, Any], dict[str, Any]], subprocess.Popen[str]]]:
    """Start a process holding the lock (`where` as in `Opener.child`, `info` a LockInfo's
    fields but pid); returns once it holds it. Killed at the end of the test if still alive."""
    started: list[subprocess.Popen[str]] = []

    def spawn(where: dict[str, Any], info: dict[str, Any]) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, json.dumps(where), json.dumps(info)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        if line.strip() != "locked":
            process.kill()
            _, err = process.communicate()
            pytest.fail(f"the lock holder did not start: {err}")
        return process

    yield spawn
    for process in started:
        process.kill()
        process.communicate()
