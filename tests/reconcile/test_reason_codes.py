"""`plan --json` and saved plans say why with stable codes a pipeline can filter on."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from provisioner.emulator import Emulator
from tests.reconcile.helpers import mutations, write_spec
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


def changes(cli: Cli, specs: Path) -> dict[str, dict[str, Any]]:
    result = cli("plan", "--dir", str(specs), "--json")
    assert result.code == 0, result.text
    return {c["address"]: c for c in json.loads(result.out)["changes"]}


def test_drift_carries_changed_outside_with_the_field_paths(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    write_spec(specs, "edited", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    put(emulator, "svc", {"compute": {"scaling": {"minReplica": 1, "maxReplica": 5}}})
    emulator.advance(60)
    write_spec(specs, "edited", namespace="acme", scaling={"min_replicas": 2, "max_replicas": 3})
    write_spec(specs, "new", namespace="acme", state="paused")
    plan = changes(cli, specs)
    assert plan["acme/svc"]["reasons"] == [
        {"code": "changed-outside", "paths": ["scaling.max_replicas"]}
    ]
    assert plan["acme/edited"]["reasons"] == [
        {"code": "fields-differ", "paths": ["scaling.min_replicas", "scaling.max_replicas"]}
    ]
    assert [r["code"] for r in plan["acme/new"]["reasons"]] == [
        "does-not-exist",
        "paused-after-create",
    ]


def test_removed_protected_spec_is_kept_with_its_codes(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "keep", namespace="acme", protect=True)
    write_spec(specs, "drop", namespace="acme")
    write_spec(specs, "stay", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    (specs / "keep.yaml").unlink()
    (specs / "drop.yaml").unlink()
    plan = changes(cli, specs)
    assert [r["code"] for r in plan["acme/keep"]["reasons"]] == ["spec-removed", "protected-kept"]
    assert plan["acme/drop"]["reasons"] == [{"code": "spec-removed"}]
    assert plan["acme/stay"]["reasons"] == [{"code": "matches"}]


def test_plan_saved_before_reason_codes_is_refused_clearly(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    document = json.loads(saved.read_text())
    del document["checksum"]  # older versions wrote none
    for change in document["changes"]:
        change["reason"] = "does not exist yet"
        del change["reasons"]
    saved.write_text(json.dumps(document))
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert "saved by an older provisioner" in result.err
    assert "run `provisioner plan` again" in result.err
    assert mutations(emulator) == []
