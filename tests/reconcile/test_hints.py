"""Every hint a message gives works as printed: the suggested command, run exactly as the
message spells it (same folder, same API), does what the message says it does."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

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


def _team(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "_settings.yaml").write_text("stack: team\nnamespace: acme\n")
    write_spec(folder, "svc")
    return folder


def test_the_stale_plan_hint_makes_a_new_plan_for_the_same_stack_and_api(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi
) -> None:
    team = _team(tmp_path / "team")
    assert cli("apply", "--dir", str(team), "--auto-approve").code == 0
    write_spec(team, "svc", scaling={"min_replicas": 1, "max_replicas": 2})
    saved = tmp_path / "p.json"
    assert cli("plan", "--dir", str(team), "--out", str(saved)).code == 0
    hf_api.update_inference_endpoint("svc", namespace="acme", env={"CHANGED": "outside"})
    emulator.advance(60)
    stale = cli("apply", str(saved))
    assert stale.code == 1
    command = f"provisioner plan --dir {team} --api-url {emulator.url} --out {saved}"
    assert (
        f"{saved} is stale; nothing was changed. Make a new plan with `{command}` and review it."
    ) in stale.err
    again = cli(*suggested(stale.err, "Make a new plan with"))
    assert again.code == 0, again.text
    assert "acme/svc" in again.out
    applied = cli("apply", str(saved))
    assert applied.code == 0, applied.text
    assert live(emulator)["svc"]["compute"]["scaling"]["maxReplica"] == 2
