"""`import` writes only inside `--dir`, under names a spec may have, never through a symbolic
link, and lists what it wrote and what it skipped (and why) even when one endpoint cannot be
written; a token-shaped env value becomes a `model.secrets` reference, never a value in a file.

Hostile names come from the emulator's `corrupt_listing` fault (the emulator itself refuses
them on create), as a misbehaving or compromised service would list them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.helpers import unmanaged
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
            f"skipped: acme/{listed_as!r}: the API lists an endpoint under a name that is not a "
            "valid spec name"
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
    assert json.dumps("skipped") not in result.err
