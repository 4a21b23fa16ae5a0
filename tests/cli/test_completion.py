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
    """The values bash would offer for the last word of `line` (a trailing space: a new word);
    a folder or file completion (left to bash) reads `dir,` or `file,`."""
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
    return [
        row if row in ("dir,", "file,") else row.split(",", 1)[1]
        for row in done.stdout.splitlines()
        if row  # no completion at all is one empty line
    ]


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
        ("provisioner state un", ["unlock"]),
        ("provisioner init --na", ["--namespace"]),
        ("provisioner init ", ["dir,"]),  # DIR: bash offers folders
        ("provisioner plan --dir ", ["dir,"]),
        # A mistyped command completes to nothing, quietly: no usage error in the command line.
        ("provisioner pln --d", []),
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


@pytest.mark.slow
def test_bash_itself_completes_with_the_printed_script(tmp_path: Path) -> None:
    """The script `provisioner completion bash` prints, sourced by bash, fills COMPREPLY when
    bash calls its completion function for `provisioner pl<TAB>` and `plan --format <TAB>`."""
    script = subprocess.run(
        [str(PROVISIONER), "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "completion.bash").write_text(script)
    probe = (
        "source completion.bash\n"
        "complete -p provisioner\n"
        "COMP_WORDS=(provisioner pl); COMP_CWORD=1; _provisioner_completion provisioner\n"
        'echo "1:${COMPREPLY[*]}"; COMPREPLY=()\n'
        'COMP_WORDS=(provisioner plan --format ""); COMP_CWORD=3\n'
        "_provisioner_completion provisioner\n"
        'echo "2:${COMPREPLY[*]}"\n'
    )
    env = {**os.environ, "PATH": f"{PROVISIONER.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("complete ") and lines[0].endswith(" provisioner")
    assert lines[1:] == ["1:plan", "2:text markdown json"]


def test_completing_a_command_name_imports_no_command() -> None:
    """`provisioner <TAB>` answers from COMMAND_TABLE: no command module (and so no
    huggingface_hub) is imported, so the answer is as quick as `provisioner --help`."""
    probe = (
        "import os, sys\n"
        "os.environ.update(_PROVISIONER_COMPLETE='bash_complete', COMP_WORDS='provisioner ',"
        " COMP_CWORD='1')\n"
        "from provisioner.cli.main import main\n"
        "try:\n    main([])\nexcept SystemExit:\n    pass\n"
        "loaded = [m for m in sys.modules if m.startswith(('huggingface_hub', 'httpx'))]\n"
        "loaded += [m for m in sys.modules if m.startswith('provisioner.cli.') and "
        "m.split('.')[-1] not in ('main', 'context', 'colour', 'options')]\n"
        "print('LOADED:' + ','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    out = done.stdout.splitlines()
    assert out[-1] == "LOADED:", out[-1]
    assert [row.split(",", 1)[1] for row in out[:-1]] == list(COMMAND_TABLE)
