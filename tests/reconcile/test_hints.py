"""Every hint a message gives works as printed: the suggested command, run exactly as the
message spells it (same folder, same API), does what the message says it does."""

from __future__ import annotations

import io
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, unmanaged, write_spec
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


def test_the_import_hint_writes_the_spec_into_the_same_stack(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spec names an endpoint made by hand: the error offers `adopt: true`, or `import`
    with the options that write into this stack (run from another folder, it still does)."""
    unmanaged(hf_api, "taken")
    team = _team(tmp_path / "team")
    spec = write_spec(team / "nested", "taken", namespace="acme")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = cli("plan", "--dir", str(team))
    assert result.code == 1
    command = f"provisioner import taken --namespace acme --dir {team} --api-url {emulator.url}"
    assert (
        f"{spec}:1:7: error: acme/taken already exists and is not managed by provisioner: add "
        "`adopt: true` to this spec to take it over (the plan then shows what it changes), or "
        "rename this spec; to start from the endpoint as it is instead, remove this spec and "
        f"run `{command}`"
    ) in result.err
    spec.unlink()
    imported = cli(*suggested(result.err, "remove this spec and run"))
    assert imported.code == 0, imported.text
    assert f"wrote {team}/taken.yaml" in imported.out
    assert not (elsewhere / "endpoints").exists()
    review = cli(*suggested(imported.out, "Review them, then"))
    assert review.code == 0, review.text
    assert "acme/taken" in review.out and "adopt" in review.out


def test_adopt_true_as_the_hint_says_takes_the_endpoint_over(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi
) -> None:
    unmanaged(hf_api, "taken")
    team = _team(tmp_path / "team")
    write_spec(team, "taken", namespace="acme", adopt=True)
    applied = cli("apply", "--dir", str(team), "--auto-approve")
    assert applied.code == 0, applied.text
    assert "provisioner-stack-team" in live(emulator)["taken"]["tags"]


MISTAKES = """\
name: svc
namespace: acme
model:
  repository: gpt2
  task: text-generation
  enviroment: {LOG_LEVEL: info}
compute:
  vendor: AWS
  region: us-east1
  accelerator: cpu
  instance_type: intel-spr
  instance_size: 2
"""


def test_did_you_mean_and_write_hints_are_what_makes_the_spec_apply(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Each hint, followed to the letter, fixes its mistake without making another: the schema's
    (key, value, type) first, then the hardware list's (region), then apply succeeds."""
    specs = tmp_path / "endpoints"
    specs.mkdir()
    spec = specs / "svc.yaml"
    spec.write_text(MISTAKES)
    checked = cli("validate", "--dir", str(specs))
    assert checked.code == 1
    assert checked.err.splitlines() == [
        f"{spec}:6:3: error: model: unknown key 'enviroment'; did you mean 'env'?",
        f"{spec}:8:11: error: compute.vendor: 'AWS' is not one of aws, azure, gcp; did you "
        "mean 'aws'?",
        f"{spec}:12:18: error: compute.instance_size: expected a string, got an integer; "
        'write "x2"',
        "3 errors",
    ]
    text = MISTAKES.replace("enviroment:", "env:").replace("vendor: AWS", "vendor: aws")
    spec.write_text(text.replace("instance_size: 2", 'instance_size: "x2"'))
    assert cli("validate", "--dir", str(specs)).code == 0
    planned = cli("plan", "--dir", str(specs))
    assert planned.code == 1
    assert (
        f"{spec}:9:11: error: compute.region: aws offers no region 'us-east1' to namespace acme; "
        "did you mean 'us-east-1'? regions: eu-west-1, us-east-1, us-west-2"
    ) in planned.err
    spec.write_text(spec.read_text().replace("us-east1", "us-east-1"))
    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert live(emulator)["svc"]["model"]["env"] == {"LOG_LEVEL": "info"}


def test_a_size_the_service_will_not_deploy_lists_the_sizes_it_will(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    gpu = {"accelerator": "gpu", "instance_type": "nvidia-l40s", "instance_size": "x8"}
    spec = write_spec(specs, "svc", namespace="acme", compute=gpu)
    planned = cli("plan", "--dir", str(specs))
    assert planned.code == 1
    assert (
        f"{spec}:10:18: error: compute.instance_size: nvidia-l40s x8 in aws/us-east-1 is not "
        "available: the service will not deploy it; nvidia-l40s there comes in x1, x4 (other "
        "deployable gpu types: nvidia-a100, nvidia-a10g, nvidia-l4, nvidia-t4)"
    ) in planned.err
    write_spec(specs, "svc", namespace="acme", compute={**gpu, "instance_size": "x4"})
    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert live(emulator)["svc"]["compute"]["instanceSize"] == "x4"


def test_prompts_count_in_words_and_plans_agree(
    tmp_path: Path, cli: Cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = tmp_path / "endpoints"
    for name in ("a", "b"):
        write_spec(specs, name, namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "a", namespace="acme", tags=["team-x"])
    planned = cli("plan", "--dir", str(specs))
    assert "      tags differ from the spec\n" in planned.out
    terminal = context_for(emulator)
    terminal.stdin_is_tty = lambda: True
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))
    applied = cli("apply", "--dir", str(specs), ctx=terminal)
    assert "Apply 1 change to stack 'endpoints'? Only 'yes' is accepted" in applied.out
    monkeypatch.setattr(sys, "stdin", io.StringIO("no\n"))
    destroyed = cli("destroy", "--dir", str(specs), ctx=terminal)
    assert "Destroy 2 endpoints of stack 'endpoints'? Only 'yes' is accepted" in destroyed.out
    assert set(live(emulator)) == {"a", "b"}


def test_a_failed_endpoint_is_named_once_per_line(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    emulator.add_fault({"kind": "fail_deploy", "namespace": "acme", "name": "svc"})
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    # The endpoint's own log lines under the failure (indented) quote the service's message,
    # not provisioner's words: they are not the lines that name it.
    failures = [
        line
        for line in result.text.splitlines()
        if "failed to deploy" in line and not line.startswith("      ")
    ]
    assert failures, result.text
    for line in failures:
        assert line.count("acme/svc") == 1, line
    assert any(
        line.startswith("  ✗ acme/svc: create accepted, but failed to deploy: ")
        for line in failures
    )


def test_the_wait_timeout_hint_checks_the_same_stack(
    tmp_path: Path, cli: Cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = _team(tmp_path / "team")
    monkeypatch.chdir(tmp_path)  # no `endpoints` folder here: only --dir finds the stack
    result = cli("apply", "--dir", str(team), "--auto-approve", "--timeout", "4")
    assert result.code == 1
    command = f"provisioner status --dir {team} --api-url {emulator.url}"
    assert f"it may still get there: check `{command}` or raise --timeout" in result.err
    status = cli(*suggested(result.err, "it may still get there: check"))
    assert status.code == 0, status.text
    assert "acme/svc" in status.out
