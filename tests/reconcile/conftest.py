"""Fixtures for reconciler tests: the CLI run in process against the in-process emulator, with
the emulator's clock injected as provisioner's clock and sleep (no test waits on real time)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.cli.context import Context
from provisioner.emulator import Emulator
from tests.support import FIXED_NOW, HF_CLI
from tests.support.cli import Result, run

EXAMPLES = Path(__file__).resolve().parents[2] / "endpoints"
SECRET_VALUE = "s3cr3t-value-that-must-never-be-printed"


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    """A private copy of the example specs, free to edit."""
    target = tmp_path / "endpoints"
    shutil.copytree(EXAMPLES, target)
    return target


def context_for(emu: Emulator, **environ: str) -> Context:
    return Context(
        environ={
            "HF_TOKEN": "hf_demo",
            "PROVISIONER_API_URL": emu.url,
            "SUPPORT_ASSISTANT_API_KEY": SECRET_VALUE,
            "PROVISIONER_NOW": FIXED_NOW,
            **environ,
        },
        sleep=emu.advance,
        clock=emu.now,
        rng=random.Random(0),
        is_tty=lambda: False,
        stdin_is_tty=lambda: False,
    )


@pytest.fixture
def context(emulator: Emulator) -> Context:
    return context_for(emulator)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], context: Context) -> Callable[..., Result]:
    """`cli("apply", "--dir", ...)`: the real CLI; every run is checked for leaked secrets."""

    def invoke(*args: str, ctx: Context | None = None) -> Result:
        used = ctx or context
        result = run(capsys, *args, context=used)
        for name, value in used.environ.items():
            if any(word in name for word in ("TOKEN", "KEY", "SECRET", "PASSWORD")):
                assert value not in result.text, f"the value of {name} leaked into the output"
        return result

    return invoke


@pytest.fixture
def hf_cli(
    emulator: Emulator, hf_cli_env: Callable[[Emulator], dict[str, str]]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run huggingface_hub's real `hf` CLI against the emulator (a change made outside)."""

    def hf(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, str(HF_CLI), *args],
            env=hf_cli_env(emulator),
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done

    return hf
