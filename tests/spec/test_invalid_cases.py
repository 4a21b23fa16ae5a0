"""Golden cases: each `tests/cases/invalid/<case>/` holds spec files and the exact diagnostics.

Regenerate with `make unit ARGS=--update-goldens` and review the diff like any other change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run

CASES = sorted(p for p in (Path(__file__).parent.parent / "cases" / "invalid").iterdir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_invalid_case_reports_every_problem_with_file_line_col(
    case: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    update_goldens: bool,
) -> None:
    monkeypatch.chdir(case)
    result = run(capsys, "validate")
    expected = case / "expected.txt"
    if update_goldens:
        expected.write_text(result.err)
    assert result.code == 1
    assert result.out == ""
    assert result.err == expected.read_text()
    for line in result.err.splitlines()[:-1]:
        path, line_no, col, *_ = line.split(":")
        assert (case / path).is_file(), line
        assert int(line_no) >= 1 and int(col) >= 1
