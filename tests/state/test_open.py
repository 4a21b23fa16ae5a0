"""`open_backend`: which folder or bucket prefix a stack's state lives in, from the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.spec.backend import BackendConfig, parse_url
from provisioner.spec.discover import git_root
from provisioner.state.local import LocalBackend
from provisioner.state.open import open_backend
from provisioner.state.s3 import S3Backend


def _local(config: BackendConfig, stack: str, spec_root: Path) -> Path:
    backend = open_backend(config, stack, spec_root=spec_root)
    assert isinstance(backend, LocalBackend)
    return backend.directory


def test_by_default_state_lives_at_the_git_root_and_is_ignored(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    spec_root = repo / "endpoints" / "prod"
    spec_root.mkdir(parents=True)

    directory = _local(BackendConfig(), "prod", spec_root)
    assert directory == repo / ".provisioner" / "prod"
    open_backend(BackendConfig(), "prod", spec_root=spec_root).write("x", b"1", replaces=None)
    assert (repo / ".provisioner" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_worktree_git_file_marks_the_root_too(tmp_path: Path) -> None:
    (tmp_path / ".git").write_text("gitdir: /elsewhere/.git/worktrees/wt\n")
    (tmp_path / "specs").mkdir()
    assert _local(BackendConfig(), "dev", tmp_path / "specs") == tmp_path / ".provisioner" / "dev"


def test_outside_a_repository_state_lives_in_the_spec_directory(tmp_path: Path) -> None:
    if git_root(tmp_path) is not None:
        pytest.skip("the temporary folder is inside a git repository here")
    assert _local(BackendConfig(), "prod", tmp_path) == tmp_path / ".provisioner" / "prod"


def test_a_chosen_folder_is_relative_to_the_spec_directory(tmp_path: Path) -> None:
    assert _local(BackendConfig(path="../state"), "prod", tmp_path / "specs") == (
        tmp_path / "specs" / ".." / "state" / "prod"
    )
    assert _local(BackendConfig(path=str(tmp_path / "abs")), "prod", tmp_path / "specs") == (
        tmp_path / "abs" / "prod"
    )


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("s3://acme-state", "s3://acme-state/prod"),
        ("s3://acme-state/", "s3://acme-state/prod"),
        ("s3://acme-state/endpoints/team-a", "s3://acme-state/endpoints/team-a/prod"),
    ],
)
def test_s3_state_lives_under_the_prefix_then_the_stack(
    url: str, location: str, tmp_path: Path
) -> None:
    backend = open_backend(parse_url(url), "prod", spec_root=tmp_path)
    assert isinstance(backend, S3Backend)
    assert backend.location == location


@pytest.mark.parametrize("stack", ["", ".", "..", "a/b", ".hidden"])
def test_a_stack_name_that_is_not_one_folder_is_refused(stack: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        open_backend(BackendConfig(), stack, spec_root=tmp_path)
