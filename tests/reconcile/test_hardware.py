"""`provisioner hardware`: what a namespace can deploy, its price and quota (issue: CLI, "as
`hf endpoints catalog`"), from the listing the plan checks specs against."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.helpers import apply_ok, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_hardware_lists_instances_with_price_and_quota_used_after_an_apply(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    specs.mkdir()
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\n")
    before = json.loads(cli("hardware", "--dir", str(specs), "--format", "json").out)
    write_spec(specs, "a", scaling={"min_replicas": 1, "max_replicas": 2})
    apply_ok(cli, specs)

    table = cli("hardware", "--dir", str(specs), "--vendor", "aws", "--accelerator", "cpu")
    assert table.code == 0, table.text
    header, *rows = table.out.split("\n\n")[0].splitlines()
    assert header.split() == [
        "VENDOR", "REGION", "ACCELERATOR", "INSTANCE", "SIZE", "PRICE/H", "QUOTA", "USED/MAX",
    ]  # fmt: skip
    assert rows and all(r.split()[:1] == ["aws"] and r.split()[2] == "cpu" for r in rows)
    assert "for namespace acme" in table.out

    after = json.loads(cli("hardware", "--dir", str(specs), "--format", "json").out)
    assert after["namespace"] == "acme" and after["format_version"] == "1"

    def spr(document: dict[str, object]) -> dict[str, object]:
        rows = document["hardware"]
        assert isinstance(rows, list)
        return next(
            r
            for r in rows
            if (r["vendor"], r["region"], r["instance_type"], r["instance_size"])
            == ("aws", "us-east-1", "intel-spr", "x2")
        )

    row = spr(after)
    assert row["deployable"] is True and row["price_per_hour"] > 0
    # x2 CPU, max 2 replicas: 4 accelerators more than before the apply.
    assert row["quota"]["used"] == spr(before)["quota"]["used"] + 4  # type: ignore[index]
    gpus = cli("hardware", "--dir", str(specs), "--accelerator", "gpu", "--format", "json")
    assert {r["accelerator"] for r in json.loads(gpus.out)["hardware"]} == {"gpu"}


def test_hardware_of_a_namespace_the_token_cannot_use_is_an_error(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    result = cli("hardware", "--dir", str(tmp_path), "--namespace", "someone-else")
    assert result.code == 1
    assert "cannot list the hardware of namespace someone-else" in result.err
