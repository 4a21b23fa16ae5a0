"""`import` writes only inside `--dir`, under names a spec may have, never through a symbolic
link, and lists what it wrote and what it skipped (and why) even when one endpoint cannot be
written; a token-shaped env value becomes a `model.secrets` reference, never a value in a file.

Hostile names come from the emulator's `corrupt_listing` fault (the emulator itself refuses
them on create), as a misbehaving or compromised service would list them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, unmanaged
from tests.support.cli import Result

Cli = Callable[..., Result]


def _renamed(emulator: Emulator, api: HfApi, name: str, listed_as: str) -> None:
    unmanaged(api, name)
    emulator.add_fault(
        {"kind": "corrupt_listing", "namespace": "acme", "name": name, "set": {"name": listed_as}}
    )


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}


def test_hostile_names_and_a_dangling_link_write_nothing_outside_and_everything_is_listed(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    api = hub_for(emulator)
    absolute = tmp_path / "abs"
    for name, listed_as in [("up", "../x"), ("ab", str(absolute)), ("sub", "a/b"), ("dot", "a.b")]:
        _renamed(emulator, api, name, listed_as)
    for name in ("alpha", "mid", "zulu"):
        unmanaged(api, name)
    emulator.advance(60)
    specs = tmp_path / "endpoints"
    specs.mkdir()
    elsewhere = tmp_path / "elsewhere" / "mid.yaml"
    elsewhere.parent.mkdir()
    (specs / "mid.yaml").symlink_to(elsewhere)  # dangling: nothing there yet

    result = cli("import", "--all", "--dir", str(specs), "--namespace", "acme")
    assert result.code == 1, result.text  # some were refused
    assert _files(specs) == {"alpha.yaml", "zulu.yaml", "mid.yaml"}
    assert not elsewhere.exists() and (specs / "mid.yaml").is_symlink()
    assert not list(elsewhere.parent.iterdir())
    assert {p.name for p in tmp_path.iterdir()} - {"hf-home"} == {"endpoints", "elsewhere"}
    assert f"wrote {specs / 'alpha.yaml'}" in result.out
    assert f"wrote {specs / 'zulu.yaml'}" in result.out
    for listed_as in ("../x", str(absolute), "a/b", "a.b"):
        assert (
            f"skipped: acme/{listed_as!r} cannot be read: the API lists it under the name "
            f"{listed_as!r}, which is not a valid endpoint name"
        ) in result.err, result.err
    assert f"skipped: {specs / 'mid.yaml'} is a symbolic link; not followed" in result.err
    assert cli("validate", "--dir", str(specs)).code == 1  # the dangling link is still there
    (specs / "mid.yaml").unlink()
    assert cli("validate", "--dir", str(specs)).code == 0


def test_a_name_passing_the_rule_is_imported_as_before(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "a-1")
    specs = tmp_path / "endpoints"
    specs.mkdir()
    result = cli("import", "a-1", "--dir", str(specs), "--namespace", "acme")
    assert result.code == 0, result.text
    assert _files(specs) == {"a-1.yaml"}
    assert "skipped" not in result.err


API_KEY = "sk-live-0123456789abcdef"
HF_SHAPED = "hf_" + "A1b2C3d4" * 4


def test_token_shaped_env_values_are_imported_as_secret_references_with_a_warning(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    env = {"MAX_INPUT_LENGTH": "512", "OPENAI_API_KEY": API_KEY, "DOWNSTREAM": HF_SHAPED}
    unmanaged(hub_for(emulator), "leaky", env=env)
    emulator.advance(60)
    specs = tmp_path / "endpoints"
    specs.mkdir()

    result = cli("import", "leaky", "--dir", str(specs), "--namespace", "acme")
    assert result.code == 0, result.text
    text = (specs / "leaky.yaml").read_text()
    for value in (API_KEY, HF_SHAPED):
        assert value not in text and value not in result.text
    assert "MAX_INPUT_LENGTH: '512'" in text
    assert "DOWNSTREAM:\n      from_env: DOWNSTREAM" in text
    assert "OPENAI_API_KEY:\n      from_env: OPENAI_API_KEY" in text
    for key in ("DOWNSTREAM", "OPENAI_API_KEY"):
        assert (
            f"warning: acme/leaky: model.env.{key} looks like a secret: it is written as "
            f"model.secrets.{key} (from_env: {key}); set {key} where apply runs"
        ) in result.err, result.err
    assert "moves it from env to secrets" in result.err
    assert cli("validate", "--dir", str(specs)).code == 0

    ctx = context_for(emulator, OPENAI_API_KEY=API_KEY, DOWNSTREAM=HF_SHAPED)
    plan = cli("plan", "--dir", str(specs), "--json", ctx=ctx)
    assert plan.code == 0, plan.text
    (change,) = json.loads(plan.out)["changes"]
    paths = ["model.env.DOWNSTREAM", "model.env.OPENAI_API_KEY"]
    paths += ["model.secrets.DOWNSTREAM", "model.secrets.OPENAI_API_KEY"]
    assert [f["path"] for f in change["fields"]] == paths
    assert all(f["sensitive"] for f in change["fields"][:2]), change["fields"]
    text_plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert API_KEY not in text_plan.text and HF_SHAPED not in text_plan.text
    assert "- model.env.OPENAI_API_KEY: (sensitive)" in text_plan.out
    assert "+ model.secrets.OPENAI_API_KEY: (sensitive)" in text_plan.out
    applied = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert applied.code == 0, applied.text
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx).code == 0
    assert "OPENAI_API_KEY" not in live(emulator)["leaky"]["model"]["env"]


def test_an_env_of_secrets_only_is_imported_empty_so_the_plan_takes_them_out_of_env(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "only", env={"SERVICE_TOKEN": API_KEY})
    emulator.advance(60)
    specs = tmp_path / "endpoints"
    specs.mkdir()
    result = cli("import", "only", "--dir", str(specs), "--namespace", "acme")
    assert result.code == 0, result.text
    text = (specs / "only.yaml").read_text()
    assert "env: {}" in text and "SERVICE_TOKEN:\n      from_env: SERVICE_TOKEN" in text
    assert API_KEY not in text + result.text
    ctx = context_for(emulator, SERVICE_TOKEN=API_KEY)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert live(emulator)["only"]["model"]["env"] == {}
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx).code == 0


def test_the_schema_line_never_names_this_machine(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    """Outside the repository that ships the schema, a path to it would name this machine's
    installation: the header says how to get a schema instead. Inside it, the path is relative
    to the spec, so it works wherever the repository is cloned."""
    unmanaged(hub_for(emulator), "outside")
    unmanaged(hub_for(emulator), "inside")
    elsewhere = tmp_path / "endpoints"
    elsewhere.mkdir()
    assert cli("import", "outside", "--dir", str(elsewhere), "--namespace", "acme").code == 0
    text = (elsewhere / "outside.yaml").read_text()
    assert "$schema=" not in text
    assert "mkdir -p schemas && provisioner schema > schemas/endpoint.schema.json" in text
    assert str(Path.home()) not in text and "/tmp" not in text

    repository = Path(__file__).resolve().parents[2]  # this repository ships the schema
    inside = repository / "tests" / "cases" / ".import-scratch"
    inside.mkdir()
    try:
        assert cli("import", "inside", "--dir", str(inside), "--namespace", "acme").code == 0
        first = (inside / "inside.yaml").read_text().splitlines()[0]
        assert first == (
            "# yaml-language-server: $schema=../../../provisioner/spec/endpoint.schema.json"
        )
    finally:
        shutil.rmtree(inside)


def test_import_all_says_when_there_is_nothing_to_import(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    specs = tmp_path / "endpoints"
    specs.mkdir()
    empty = cli("import", "--all", "--dir", str(specs), "--namespace", "acme")
    assert empty.code == 0
    assert "Nothing to import: namespace acme has no endpoints." in empty.err
    unmanaged(hub_for(emulator), "one")
    assert cli("import", "--all", "--dir", str(specs), "--namespace", "acme").code == 0
    again = cli("import", "--all", "--dir", str(specs), "--namespace", "acme")
    assert again.code == 0
    assert "has a spec file (listed above)" in again.err and "one.yaml exists" in again.err


def test_a_secret_named_like_a_pipeline_credential_is_imported_from_a_variable_of_its_own(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    """`HF_TOKEN: {from_env: HF_TOKEN}` would hand the pipeline's own token to the container
    (and `validate` refuses it): the imported spec reads ENDPOINT_HF_TOKEN instead."""
    unmanaged(
        hub_for(emulator),
        "creds",
        env={"AWS_SECRET_ACCESS_KEY": API_KEY},
        secrets={"HF_TOKEN": HF_SHAPED},
    )
    emulator.advance(60)
    specs = tmp_path / "endpoints"
    specs.mkdir()
    result = cli("import", "creds", "--dir", str(specs), "--namespace", "acme")
    assert result.code == 0, result.text
    text = (specs / "creds.yaml").read_text()
    assert "HF_TOKEN:\n      from_env: ENDPOINT_HF_TOKEN" in text
    assert "AWS_SECRET_ACCESS_KEY:\n      from_env: ENDPOINT_AWS_SECRET_ACCESS_KEY" in text
    assert (
        "model.secrets.AWS_SECRET_ACCESS_KEY (from_env: ENDPOINT_AWS_SECRET_ACCESS_KEY); set "
        "ENDPOINT_AWS_SECRET_ACCESS_KEY where apply runs"
    ) in result.err, result.err
    assert cli("validate", "--dir", str(specs)).code == 0
    ctx = context_for(emulator, ENDPOINT_HF_TOKEN=HF_SHAPED, ENDPOINT_AWS_SECRET_ACCESS_KEY=API_KEY)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx).code == 0
