"""The golden case format itself: an edit that does not apply is an error, never a silent no-op
(a case would then plan something else than it says)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.capture import CaseError, load_case, write_specs


def case(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "case"
    (folder / "endpoints").mkdir(parents=True)
    (folder / "endpoints" / "a.yaml").write_text("# about a\nname: a\nstate: running\n")
    (folder / "case.yaml").write_text(text)
    return folder


def test_edits_keep_the_other_lines_where_they_were(tmp_path: Path) -> None:
    folder = case(tmp_path, 'edits: {a.yaml: {replace: {"running": "paused"}, append: "x: 1\\n"}}')
    written = write_specs(load_case(folder).specs, tmp_path / "out")
    assert (written / "a.yaml").read_text() == "# about a\nname: a\nstate: paused\nx: 1\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('edits: {a.yaml: {replace: {"stopped": "paused"}}}', "'stopped' occurs 0 times"),
        ('edits: {a.yaml: {replace: {"a\\n": "b\\n"}}}', "'a\\n' occurs 2 times"),
        ("edits: {a.yaml: {insert: x}}", "unknown edit keys ['insert']"),
        ("outsid: []", "unknown keys ['outsid']"),
        ("specs: nowhere", "no spec folder"),
    ],
)
def test_a_case_that_does_not_say_what_to_do_is_refused(
    tmp_path: Path, text: str, complaint: str
) -> None:
    with pytest.raises(CaseError) as error:
        write_specs(load_case(case(tmp_path, text)).specs, tmp_path / "out")
    assert complaint in str(error.value)
