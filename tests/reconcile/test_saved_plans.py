"""`plan --out` then `apply PLAN`: exactly what was reviewed, or nothing if it went stale."""

from __future__ import annotations

import json
import shlex
import shutil
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import SECRET_VALUE
from tests.reconcile.helpers import live, mutations, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def put(emu: Emulator, name: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"{emu.url}/v2/endpoint/acme/{name}",
        method="PUT",
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer hf_demo", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request).close()


def test_saved_plan_applies_exactly_and_holds_no_secret(
    specs: Path, tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    text = saved.read_text()
    assert SECRET_VALUE not in text
    assert '"SUPPORT_ASSISTANT_API_KEY"' in text  # where the value will come from
    assert json.loads(text)["format_version"] == "1.8"
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    assert "dialogpt-chat" in live(emulator)


def test_a_saved_plan_whose_specs_changed_since_is_refused(
    specs: Path, tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Planned again from the specs here, the changes differ from the saved ones: nothing is
    applied, and the plan as it would be now is shown."""
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    (specs / "dev" / "dialogpt.yaml").unlink()
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        f"{saved}:1:1: error: planned again now, the changes are not the saved plan's" in result.err
    )
    assert "Make a new plan with `provisioner plan --dir" in result.err
    assert mutations(emulator) == []


def test_a_forged_saved_plan_with_a_valid_checksum_is_never_executed(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Whoever can write the file (a pull request's job) can recompute its unkeyed checksum:
    an endpoint added, a token placed in its env, a deletion the specs never asked for. Apply
    plans again from its own specs and refuses a plan that is not theirs."""
    from provisioner.plan.document import dumps, loads

    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    write_spec(specs, "keep", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    plan = loads(saved.read_text())
    (update,) = plan.actionable
    assert update.desired is not None
    forged_env = {**update.desired.env, "STOLEN": "hf_exfiltrated"}
    forged = replace(
        plan,
        changes=tuple(
            replace(c, desired=replace(c.desired, env=forged_env), sends=("env", *c.sends))
            if c is update
            else c
            for c in plan.changes
        ),
    )
    saved.write_text(dumps(forged))  # a valid checksum: it is unkeyed
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1, result.text
    assert "planned again now, the changes are not the saved plan's" in result.err
    assert mutations(emulator) == []
    assert "STOLEN" not in json.dumps(live(emulator))


def test_stale_saved_plan_is_refused_naming_the_endpoint(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    write_spec(specs, "other", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    write_spec(specs, "other", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    put(emulator, "svc", {"model": {"env": {"CHANGED": "outside"}}})
    emulator.advance(60)
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "is stale; nothing was changed" in result.err
    assert "acme/svc changed since the plan was made (configuration)" in result.err
    assert "acme/other" not in result.err
    assert mutations(emulator) == []


def _saved_scaling_plan(tmp_path: Path, cli: Cli, *, wait: bool = True) -> tuple[Path, Path]:
    """`svc` and `other` applied, then a plan saved that changes both of their scaling."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    write_spec(specs, "other", namespace="acme")
    applied = cli("apply", "--dir", str(specs), "--auto-approve", *([] if wait else ["--no-wait"]))
    assert applied.code == 0, applied.text
    for name in ("svc", "other"):
        write_spec(specs, name, namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    return specs, saved


def test_saved_plan_is_refused_when_its_endpoint_was_deleted_since(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi
) -> None:
    specs, saved = _saved_scaling_plan(tmp_path, cli)
    hf_api.delete_inference_endpoint("svc", namespace="acme")
    emulator.advance(60)  # past the delete's grace period: gone from the listing
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "acme/svc was deleted since the plan was made" in result.err
    assert "acme/other" not in result.err
    assert mutations(emulator) == []
    assert set(live(emulator)) == {"other"}


def test_saved_plan_is_refused_when_its_endpoint_changed_state_since(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Planned while `svc` was still starting; it then failed to deploy. Its configuration is
    what the plan saw, only its state moved on: the plan is still stale."""
    emulator.add_fault({"kind": "fail_deploy", "namespace": "acme", "name": "svc"})
    specs, saved = _saved_scaling_plan(tmp_path, cli, wait=False)
    emulator.advance(600)
    assert live(emulator)["svc"]["status"]["state"] == "failed"
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "acme/svc changed since the plan was made (state pending -> failed)" in result.err
    assert "acme/other" not in result.err
    assert mutations(emulator) == []


def test_saved_plan_may_adopt_an_unmanaged_endpoint_and_update_a_protected_one(
    tmp_path: Path, cli: Cli, emulator: Emulator, hf_api: HfApi
) -> None:
    """The saved-plan guard refuses unmanaged and protected endpoints, but not what the plan
    was made to do to them: an update that adopts one (`adopt: true`), an update of a
    protected one."""
    unmanaged(hf_api, "legacy")
    specs = tmp_path / "endpoints"
    write_spec(specs, "precious", namespace="acme", protect=True)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "legacy", namespace="acme", adopt=True)
    write_spec(
        specs,
        "precious",
        namespace="acme",
        protect=True,
        scaling={"min_replicas": 1, "max_replicas": 2},
    )
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    after = live(emulator)
    assert "provisioner-stack-endpoints" in after["legacy"]["tags"]
    assert after["precious"]["compute"]["scaling"]["maxReplica"] == 2
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_saved_plan_for_another_stack_is_refused(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write_spec(first, "svc", namespace="acme")
    write_spec(second, "svc2", namespace="acme")
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(first), "--out", str(saved)).code == 0
    result = cli("apply", str(saved), "--dir", str(second), "--auto-approve")
    assert result.code == 1
    assert "is a plan for stack 'first'" in result.err


def test_unreadable_plan_file_is_a_clear_error(tmp_path: Path, cli: Cli) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    bogus = tmp_path / "plan.json"
    bogus.write_text("{not json")
    result = cli("apply", str(bogus), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "not JSON" in result.err
    bogus.write_text('{"format_version": "9.0"}')
    result = cli("apply", str(bogus), "--dir", str(specs), "--auto-approve")
    assert "plan format 9.0 cannot be read" in result.err


def test_the_saved_plan_hint_works_as_printed_from_another_spec_directory(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "team"
    specs.mkdir()
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\n")
    write_spec(specs, "svc")
    saved = tmp_path / "p.json"
    planned = cli("plan", "--dir", str(specs), "--out", str(saved))
    assert planned.code == 0, planned.text
    hint = planned.err.split("apply exactly it with: ")[1].strip()
    assert hint == f"provisioner apply --dir {specs} --api-url {emulator.url} {saved}"
    applied = cli(*shlex.split(hint)[1:])
    assert applied.code == 0, applied.text
    assert "Apply complete: 1 created." in applied.out


def _team(folder: Path, name: str = "team") -> Path:
    folder.mkdir(parents=True)
    (folder / "_settings.yaml").write_text(f"stack: {name}\nnamespace: acme\n")
    write_spec(folder, "svc")
    return folder


def test_apply_plan_without_dir_applies_to_the_stack_the_plan_was_made_for(
    tmp_path: Path, cli: Cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plan --dir team --out p.json`, then `apply p.json` from anywhere: the plan records its
    folder (as given and absolute); an explicit --dir of another stack is still refused."""
    monkeypatch.chdir(tmp_path)
    _team(tmp_path / "team")
    _team(tmp_path / "other", name="other")
    assert cli("plan", "--dir", "team", "--out", "p.json").code == 0
    recorded = json.loads((tmp_path / "p.json").read_text())["spec_dir"]
    assert recorded == {"given": "team", "absolute": str(tmp_path / "team")}
    refused = cli("apply", "p.json", "--dir", "other")
    assert refused.code == 1
    assert "this is a plan for stack 'team', but other is stack 'other'" in refused.err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no `endpoints` here, no `team` either
    applied = cli("apply", "../p.json")
    assert applied.code == 0, applied.text
    assert "Apply complete: 1 created." in applied.out
    assert set(live(emulator)) == {"svc"}
    history = cli("history", "--dir", str(tmp_path / "team"))  # recorded in team's state
    assert "svc" in history.out, history.text


def test_apply_plan_without_dir_follows_a_moved_checkout(
    tmp_path: Path, cli: Cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planned in one CI job's checkout, applied in another's: the absolute folder is gone,
    the folder as given is found from where apply runs."""
    first, second = tmp_path / "job1", tmp_path / "job2"
    _team(first / "team")
    monkeypatch.chdir(first)
    assert cli("plan", "--dir", "team", "--out", "p.json").code == 0
    shutil.copytree(first, second)
    shutil.rmtree(first)
    monkeypatch.chdir(second)
    applied = cli("apply", "p.json")
    assert applied.code == 0, applied.text
    assert set(live(emulator)) == {"svc"}
    shutil.rmtree(second / "team")
    gone = cli("apply", "p.json")
    assert gone.code == 1
    assert (
        f"p.json:1:1: error: the plan was made from the stack in team ({first / 'team'}), which "
        "is not here: pass --dir with that stack's folder"
    ) in gone.err
