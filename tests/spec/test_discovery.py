"""Every file under a spec directory is read or reported: a spec skipped without a word is an
endpoint the next apply deletes (issue: reliability, "wrong deletions")."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.spec.stack import load_stack
from tests.spec.test_stack import COMPUTE, write


def spec(name: str) -> str:
    return f"name: {name}\nmodel: {{repository: gpt2}}\n" + COMPUTE


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return Path("e")


def _errors(root: Path) -> list[str]:
    _, diagnostics = load_stack(root)
    return sorted(str(d) for d in diagnostics if d.severity.value == "error")


def test_a_dangling_symlink_spec_is_an_error(root: Path) -> None:
    write(Path(), {"e/a.yaml": spec("a")})
    (root / "b.yaml").symlink_to("gone.yaml")
    assert _errors(root) == [
        "e/b.yaml:1:1: error: dangling symbolic link (to gone.yaml): nothing to read"
    ]


def test_a_dangling_defaults_symlink_is_an_error(root: Path) -> None:
    """It once turned `protect: true` off for every spec below it."""
    write(Path(), {"e/a.yaml": spec("a")})
    (root / "_defaults.yaml").symlink_to("../shared/_defaults.yaml")
    assert _errors(root) == [
        "e/_defaults.yaml:1:1: error: dangling symbolic link (to ../shared/_defaults.yaml): "
        "nothing to read"
    ]


def test_a_symlinked_folder_is_read_and_a_loop_is_an_error(root: Path) -> None:
    write(Path(), {"e/a.yaml": spec("a"), "team/b.yaml": spec("b")})
    (root / "team").symlink_to(Path("../team"))
    stack, diagnostics = load_stack(root)
    assert sorted(s.name for s in stack.specs) == ["a", "b"]
    assert not diagnostics.has_errors
    (root / "loop").symlink_to(Path())
    assert _errors(root) == ["e/loop:1:1: error: symbolic link loop: leads back to e"]


def test_upper_case_extensions_are_specs_and_hidden_entries_are_reported(root: Path) -> None:
    write(
        Path(),
        {
            "e/A.YAML": spec("a"),
            "e/b.Yml": spec("b"),
            "e/.hidden/c.yaml": spec("c"),
            "e/.d.yaml": spec("d"),
        },
    )
    stack, diagnostics = load_stack(root)
    assert sorted(s.name for s in stack.specs) == ["a", "b"]
    assert sorted(str(d) for d in diagnostics) == [
        "e/.d.yaml:1:1: warning: hidden file: not read",
        "e/.hidden:1:1: warning: hidden folder: not read",
    ]
