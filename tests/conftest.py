"""Shared fixtures: an in-process emulator and the real huggingface_hub client pointed at it.

Nothing here mocks huggingface_hub: the client talks HTTP to the emulator. What is patched is
only *where* it talks (its hard-coded URL constants) and, for `InferenceEndpoint.wait()`, its sleep
(which advances the emulator's clock instead of waiting). Every test runs offline: huggingface_hub's
one-off fetches (agent harnesses, update check) are pointed at the emulator or disabled, and any
attempt to resolve a Hugging Face host fails the test.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import FIXED_NOW

# Before huggingface_hub is imported anywhere (it reads these once, at import time): a private
# HF_HOME, no update check, and a dead local endpoint so a stray call fails at once instead of
# waiting on the network.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="provisioner-tests-hf-home-")
# The compiled schemas `validate` keeps between runs (provisioner.spec.compiled): not the
# user's own cache folder.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="provisioner-tests-cache-")
# ... and the key both caches are sealed with (`spec.signed.key_file`, the spec cache's too)
# out of the user's state folder.
os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp(prefix="provisioner-tests-state-"))
# The spec cache (`spec.cache`): never in this checkout's `.provisioner/` (the golden cases are
# validated where they are, inside it), nor the user's.
os.environ["PROVISIONER_SPEC_CACHE"] = tempfile.mkdtemp(prefix="provisioner-tests-spec-cache-")
os.environ["HF_HUB_DISABLE_UPDATE_CHECK"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)  # offline mode would block the emulator too
os.environ["PROVISIONER_NOW"] = FIXED_NOW  # schedules: see tests/support

from huggingface_hub import HfApi, constants
from huggingface_hub import _inference_endpoints as hub_endpoints

from provisioner.emulator import Emulator, EmulatorConfig

_FORBIDDEN_HOSTS = ("huggingface.co", "hf.co", "huggingface.cloud")
_internet_attempts: list[str] = []
_real_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else str(host)
    if any(name == h or name.endswith("." + h) for h in _FORBIDDEN_HOSTS):
        _internet_attempts.append(name)
        raise OSError(f"tests must not reach {name}")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="Regenerate golden files (tests/cases/...: live.json, plan.json, plan.txt, "
        "expected.txt) instead of comparing with them; review the diff afterwards.",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """True under `pytest --update-goldens`: golden tests write their expected files."""
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail any test that tries to resolve a Hugging Face host (even if the client swallows it)."""
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    before = len(_internet_attempts)
    yield
    attempts = _internet_attempts[before:]
    assert not attempts, f"test tried to reach the internet: {attempts}"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh emulator, in process on a free port, with frozen time (`advance()` moves it)."""
    with Emulator(EmulatorConfig(speed=0)) as emu:
        yield emu


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Emulator]]:
    """Factory for emulators with a custom config (`make_emulator(fault_rate=0.5, seed=1)`);
    all of them are stopped at teardown. Time is frozen unless `speed` is given."""
    started: list[Emulator] = []

    def make(config: EmulatorConfig | None = None, **fields: Any) -> Emulator:
        if config is None:
            config = EmulatorConfig(**{"speed": 0.0, **fields})
        emu = Emulator(config)
        emu.start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


@pytest.fixture
def hub_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., HfApi]:
    """Point huggingface_hub at an emulator; returns `HfApi(endpoint=emu.url, token=token)`."""
    home = tmp_path / "hf-home"
    home.mkdir()
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    # Paths huggingface_hub derived from HF_HOME at import time.
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(home / ".agent_harnesses.json"))

    def point(emu: Emulator, token: str | None = "hf_demo") -> HfApi:
        monkeypatch.setattr(constants, "INFERENCE_ENDPOINTS_ENDPOINT", f"{emu.url}/v2")
        monkeypatch.setattr(constants, "ENDPOINT", emu.url)
        return HfApi(endpoint=emu.url, token=token)

    return point


@pytest.fixture
def hf_api(emulator: Emulator, hub_for: Callable[..., HfApi]) -> HfApi:
    """`HfApi(endpoint=emulator.url, token="hf_demo")`, with the client's URLs on the emulator."""
    return hub_for(emulator)


@pytest.fixture
def wait_advances_clock(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """`InferenceEndpoint.wait()` sleeps between polls; make each sleep advance emulated time."""
    monkeypatch.setattr(hub_endpoints.time, "sleep", emulator.advance)


@pytest.fixture
def hf_cli_env(tmp_path: Path) -> Callable[[Emulator], dict[str, str]]:
    """Environment for running `tests/support/hf_cli.py` (the real `hf` CLI) in a subprocess."""

    def env(emu: Emulator, token: str = "hf_demo") -> dict[str, str]:
        home = tmp_path / "hf-cli-home"
        home.mkdir(exist_ok=True)
        out = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        out.update(
            {
                "PROVISIONER_EMULATOR_URL": emu.url,
                "HF_ENDPOINT": emu.url,
                "HF_TOKEN": token,
                "HF_HOME": str(home),
                "HF_HUB_DISABLE_UPDATE_CHECK": "1",
                "NO_COLOR": "1",
            }
        )
        return out

    return env
