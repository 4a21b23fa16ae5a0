"""A huge value a person typed (or a generator wrote) is cut in diagnostics: the message keeps
its first few hundred characters and says how many more were cut, instead of echoing a
megabyte to the terminal and the CI log."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.cli import run

HUGE = "x" * 1_000_000


def _spec(directory: Path, file: str, **changes: object) -> None:
    spec: dict[str, object] = {
        "name": file,
        "model": {"repository": "gpt2", "task": "text-generation"},
        "compute": {
            "vendor": "aws",
            "region": "us-east-1",
            "accelerator": "cpu",
            "instance_type": "intel-spr",
            "instance_size": "x2",
        },
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = spec
        for part in parents:
            target = target[part]  # type: ignore[assignment]
        target[last] = value
    (directory / f"{file}.yaml").write_text(yaml.safe_dump(spec, width=2**31))


@pytest.mark.parametrize(
    "field",
    ["name", "compute__vendor", "compute__region", "model__task", "tags", "type"],
)
def test_a_one_megabyte_value_is_cut_in_its_diagnostic(
    field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "endpoints"
    specs.mkdir()
    (specs / "_settings.yaml").write_text("stack: long\nnamespace: acme\n")
    # Lowercase letters pass the region's and task's pattern: capitals do not.
    huge = HUGE.upper() if field in ("compute__region", "model__task") else HUGE
    value: object = [huge, huge] if field == "tags" else huge
    _spec(specs, "svc", **{field: value})
    result = run(capsys, "validate", "--dir", str(specs))
    assert result.code == 1
    assert "x" * 301 not in result.text
    assert "more characters cut" in result.err, result.err[:2000]
    assert len(result.text) < 5_000, result.text[:2000]
