"""`provisioner status`: the stack's live endpoints next to their specs, as a table or as JSON
for scripts (issue: CLI, "as `hf endpoints ls`")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.helpers import apply_ok, live, team_stack, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_status_as_json_has_one_entry_per_endpoint_with_stable_keys(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a", "b")
    apply_ok(cli, specs)
    hub_for(emulator).update_inference_endpoint("b", namespace="acme", max_replica=3)
    write_spec(specs, "c")

    result = cli("status", "--dir", str(specs), "--format", "json")
    assert result.code == 0, result.text
    document = json.loads(result.out)
    assert document["format_version"] == "1.1" and document["stack"] == "team"
    assert document["in_sync"] is False
    entries = {e["address"]: e for e in document["endpoints"]}
    assert list(entries) == ["acme/a", "acme/b", "acme/c"]
    a, b, c = entries["acme/a"], entries["acme/b"], entries["acme/c"]
    assert set(a) == {
        "address", "namespace", "name", "state", "replicas", "url", "in_sync", "sync",
        "drift", "action", "reasons", "fields", "protected", "spec", "schedule",
    }  # fmt: skip
    assert a["state"] == "running" and a["in_sync"] is True and a["sync"] == "in-sync"
    assert a["replicas"] == {"ready": 1, "target": 1, "min": 1, "max": 1}
    assert a["url"].startswith("http") and a["reasons"] == ["matches"]
    assert a["schedule"] is None  # no schedule: (see test_schedules for one)
    assert b["drift"] is True and b["sync"] == "drift" and b["reasons"] == ["changed-outside"]
    assert b["fields"] == ["scaling.max_replicas"]
    assert c["state"] is None and c["replicas"] is None and c["reasons"] == ["does-not-exist"]

    table = cli("status", "--dir", str(specs))
    assert table.out.startswith("ENDPOINT") and "changed outside provisioner" in table.out


def test_status_and_destroy_still_run_when_one_spec_is_broken(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a", "b", "c")
    apply_ok(cli, specs)
    (specs / "c.yaml").write_text("name: c\nprotect: true\nmodel: [\n")  # a bad edit
    (specs / "b.yaml").unlink()  # b's spec removed... or moved into the broken file?

    status = cli("status", "--dir", str(specs))
    assert status.code == 0, status.text
    assert "c.yaml:" in status.err and ": warning: YAML syntax error" in status.err
    assert ": error:" not in status.err
    rows = {line.split()[0]: line for line in status.out.splitlines()[1:] if line}
    assert "in sync" in rows["acme/a"]
    assert "unknown: a spec file cannot be read" in rows["acme/b"]
    assert "unknown: a spec file cannot be read" in rows["acme/c"]
    document = json.loads(cli("status", "--dir", str(specs), "--format", "json").out)
    assert [e["sync"] for e in document["endpoints"]] == ["in-sync", "unknown", "unknown"]

    # destroy deletes a (its spec loads, unprotected); the broken file may declare b or c
    # with `protect: true` (c's does), so both are kept, and destroy says why.
    destroyed = cli("destroy", "--dir", str(specs), "--auto-approve")
    assert destroyed.code == 1
    assert "acme/a: delete" in destroyed.out
    assert "kept acme/b, acme/c: no readable spec names them" in destroyed.err
    assert "c.yaml cannot be read (it may declare them, protected)" in destroyed.err
    assert sorted(live(emulator)) == ["b", "c"]


def test_destroy_stops_when_the_settings_cannot_be_read(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    team_stack(specs, "a")
    apply_ok(cli, specs)
    (specs / "_settings.yaml").write_text("stack: [\n")
    emulator.clear_requests()
    result = cli("destroy", "--dir", str(specs), "--auto-approve")
    assert result.code == 1 and "_settings.yaml" in result.err
    assert sorted(live(emulator)) == ["a"]
