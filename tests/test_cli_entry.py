"""The console script and `python -m provisioner` both reach the click group."""

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner import __version__

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
    assert out.stdout.strip() == f"provisioner {__version__} (the hf-endpoints-provisioner package)"
    # One version: what the installed distribution says is what the code says.
    assert importlib.metadata.version("hf-endpoints-provisioner") == __version__


def test_every_command_s_help_shows_examples_that_name_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`provisioner CMD --help` ends with examples of that very command."""
    from provisioner.cli.main import COMMANDS
    from tests.support.cli import run

    for name in [c for c in COMMANDS if c not in ("hf", "state")]:
        shown = run(capsys, name, "--help")
        assert shown.code == 0, (name, shown.err)
        examples = shown.out.split("Examples:", 1)
        assert len(examples) == 2, f"`provisioner {name} --help` has no examples"
        assert f"provisioner {name} " in examples[1], name


def test_the_command_list_matches_each_command_and_imports_none_of_them() -> None:
    """`provisioner --help` lists every command with its own first sentence, from a table, so
    it imports no command module and no HTTP client (start-up cost)."""
    import subprocess
    import sys

    import click

    from provisioner.cli.main import COMMAND_TABLE, cli

    context = click.Context(cli)
    for name, (_, summary) in COMMAND_TABLE.items():
        command = cli.get_command(context, name)
        assert command is not None
        assert command.get_short_help_str(limit=10_000) == summary, name
    probe = (
        "import sys\n"
        "from provisioner.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in sys.modules if m.startswith(('huggingface_hub', 'httpx'))]\n"
        "loaded += [m for m in sys.modules if m.startswith('provisioner.cli.') and "
        "m.endswith(('_cmd', 'validate', 'show', 'status'))]\n"
        "print('LOADED:' + ','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "LOADED:", done.stdout
