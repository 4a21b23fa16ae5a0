"""Every hint a message gives works as printed: the suggested command, run exactly as the
message spells it (same folder, same API), does what the message says it does."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.helpers import live, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def suggested(text: str, before: str) -> list[str]:
    """The arguments of the `provisioner ...` command quoted in backticks after `before`."""
    command = text.split(before, 1)[1].split("`")[1]
    words = shlex.split(command)
    assert words[0] == "provisioner", command
    return words[1:]


def test_a_single_dash_terraform_flag_names_its_two_dash_form(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    result = cli("apply", "-auto-approve", "--dir", str(specs))
    assert result.code == 1
    assert (
        "Error: No such option: -auto-approve (provisioner options take two dashes: --auto-approve)"
    ) in result.err
    assert live(emulator) == {}
    saved = tmp_path / "p.json"
    planned = cli("plan", "--dir", str(specs), f"-out={saved}")
    assert planned.code == 1
    assert f"(provisioner options take two dashes: --out={saved})" in planned.err
    # The two-dash forms, as printed, do what was meant.
    assert cli("plan", "--dir", str(specs), f"--out={saved}").code == 0
    applied = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert set(live(emulator)) == {"svc"}


def test_a_single_dash_word_that_is_no_option_says_so(cli: Cli) -> None:
    result = cli("status", "-frobnicate")
    assert result.code == 1
    assert (
        "No such option: -frobnicate (provisioner options take two dashes, and status has no "
        "--frobnicate option either; see `provisioner status --help`)"
    ) in result.err


def test_a_mistyped_command_gets_a_did_you_mean(cli: Cli) -> None:
    result = cli("pln")
    assert result.code == 1
    assert "Error: No such command 'pln'. Did you mean 'plan'?" in result.err
    unknown = cli("frobnicate")
    assert unknown.code == 1
    assert "Error: No such command 'frobnicate'.\n" in unknown.err
