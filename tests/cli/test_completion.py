"""`provisioner completion SHELL` and the completion protocol its scripts speak.

The completions are asked of the installed console script exactly as the bash script asks them
(`_PROVISIONER_COMPLETE=bash_complete`, `COMP_WORDS`, `COMP_CWORD`), so what is tested is what
a user's shell gets, lazy command loading included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.cli.main import COMMAND_TABLE
from tests.support.cli import run

PROVISIONER = Path(sys.executable).parent / "provisioner"


def _complete(line: str) -> list[str]:
    """The values bash would offer for the last word of `line` (a trailing space: a new word)."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    done = subprocess.run(
        [str(PROVISIONER)],
        env={
            **os.environ,
            "_PROVISIONER_COMPLETE": "bash_complete",
            "COMP_WORDS": line,
            "COMP_CWORD": str(cword),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    # bash_complete answers one `type,value` line per completion.
    return [row.split(",", 1)[1] for row in done.stdout.splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("provisioner pl", ["plan"]),
        ("provisioner show", ["show", "show-plan"]),
        ("provisioner ", list(COMMAND_TABLE)),
        ("provisioner plan --det", ["--detailed-exitcode"]),
        ("provisioner plan --format ", ["text", "markdown", "json"]),
        ("provisioner show-plan --format m", ["markdown"]),
        ("provisioner completion ", ["bash", "zsh", "fish"]),
        ("provisioner --vers", ["--version"]),
    ],
)
def test_bash_completes_commands_options_and_choices(line: str, expected: list[str]) -> None:
    assert _complete(line) == expected


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_that_calls_provisioner_back(
    capsys: pytest.CaptureFixture[str], shell: str
) -> None:
    shown = run(capsys, "completion", shell)
    assert shown.code == 0, shown.err
    assert "_PROVISIONER_COMPLETE" in shown.out
    assert f"{shell}_complete" in shown.out  # the protocol the script asks for
    assert "provisioner" in shown.out.replace("_PROVISIONER_COMPLETE", "")


def test_an_unknown_shell_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    shown = run(capsys, "completion", "tcsh")
    assert shown.code == 1
    assert shown.out == ""
    assert shown.err.splitlines() == [
        "Error: no completion for the shell 'tcsh': provisioner completes bash, zsh, fish"
    ]


def test_the_help_says_how_to_install_it(capsys: pytest.CaptureFixture[str]) -> None:
    shown = run(capsys, "completion", "--help")
    assert shown.code == 0
    text = " ".join(shown.out.split())
    assert 'eval "$(provisioner completion bash)"' in text
    assert "~/.bashrc" in text
    assert "provisioner completion fish > ~/.config/fish/completions/provisioner.fish" in text
