"""The console script and `python -m provisioner` both reach the click group."""

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

# Each test starts a Python process.
pytestmark = pytest.mark.slow


def test_python_dash_m_shows_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "provisioner", "--help"], capture_output=True, text=True, check=True
    )
    assert "Usage: python -m provisioner" in out.stdout or "Usage: provisioner" in out.stdout


def test_console_script_reports_version() -> None:
    out = subprocess.run(
        [str(BIN / "provisioner"), "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "provisioner, version 0.1.0"
