"""`provisioner validate FILE...`: what the pre-commit hook runs on the files a commit changes.
Only those specs are checked, each still over the `_defaults.yaml` files above it and
`_settings.yaml`; a changed `_defaults.yaml` checks what inherits it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.cli import run

ROOT = Path(__file__).resolve().parents[2]
PROVISIONER = Path(sys.executable).parent / "provisioner"
_SPEC = (
    "name: {name}\n"
    "model: {{repository: gpt2}}\n"
    "compute: {{accelerator: cpu, instance_type: intel-spr, instance_size: {size}}}\n"
    "scaling: {{min_replicas: 1, max_replicas: 1}}\n"
)


def _stack(root: Path) -> Path:
    """endpoints/ with a root _defaults.yaml (vendor, region), two folders, a broken spec in
    `broken/`: the full `validate` fails on it."""
    specs = root / "endpoints"
    (specs / "ok").mkdir(parents=True)
    (specs / "broken").mkdir()
    (specs / "_settings.yaml").write_text("stack: hooks\nnamespace: acme\n")
    (specs / "_defaults.yaml").write_text("compute: {vendor: aws, region: us-east-1}\n")
    (specs / "ok" / "_defaults.yaml").write_text("type: authenticated\n")
    (specs / "ok" / "a.yaml").write_text(_SPEC.format(name="a", size="x2"))
    (specs / "ok" / "b.yaml").write_text(_SPEC.format(name="b", size="x2"))
    (specs / "broken" / "c.yaml").write_text(_SPEC.format(name="c", size="huge"))
    return specs


def test_a_given_spec_is_checked_over_the_defaults_above_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    specs = _stack(tmp_path)
    assert run(capsys, "validate", "--dir", str(specs)).code == 1  # c.yaml, in the full check
    result = run(capsys, "validate", "--dir", str(specs), str(specs / "ok" / "a.yaml"))
    # Valid only with vendor and region from endpoints/_defaults.yaml: the chain was loaded.
    assert result.code == 0, result.err
    assert result.err == ""
    assert "1 endpoint spec valid (stack 'hooks', of the 1 file given)" in result.out


def test_a_given_spec_with_a_mistake_fails_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    specs = _stack(tmp_path)
    given = specs / "broken" / "c.yaml"
    result = run(capsys, "validate", "--dir", str(specs), str(specs / "ok" / "a.yaml"), str(given))
    assert result.code == 1
    assert re.search(r"c\.yaml:3:\d+: error: compute\.instance_size: 'huge'", result.err)
    assert result.err.count("error:") == 1


def test_a_missing_key_the_defaults_would_give_is_still_an_error_when_they_are_broken(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The chain is not skipped: a broken `_defaults.yaml` above the given spec is reported."""
    specs = _stack(tmp_path)
    (specs / "_defaults.yaml").write_text("compute: {vendor: aws, region: 7}\n")
    result = run(capsys, "validate", "--dir", str(specs), str(specs / "ok" / "a.yaml"))
    assert result.code == 1
    assert "_defaults.yaml:1:" in result.err
    assert "compute.region: expected a string, got an integer" in result.err


def test_a_given_defaults_file_checks_every_spec_below_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    specs = _stack(tmp_path)
    below = run(capsys, "validate", "--dir", str(specs), str(specs / "ok" / "_defaults.yaml"))
    assert below.code == 0, below.err
    assert "2 endpoint specs valid" in below.out
    everything = run(capsys, "validate", "--dir", str(specs), str(specs / "_defaults.yaml"))
    assert everything.code == 1
    assert "c.yaml" in everything.err


def test_a_given_settings_file_checks_the_whole_stack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    specs = _stack(tmp_path)
    result = run(capsys, "validate", "--dir", str(specs), str(specs / "_settings.yaml"))
    assert result.code == 1
    assert "c.yaml" in result.err


def test_files_outside_the_stack_are_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    specs = _stack(tmp_path)
    workflow = tmp_path / ".github" / "workflows" / "plan.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("on: push\n")
    result = run(capsys, "validate", "--dir", str(specs), str(workflow))
    assert result.code == 0, result.err
    assert "0 endpoint specs valid (stack 'hooks', of the 1 file given)" in result.out


def _hook() -> dict[str, object]:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hook, dict)
    return hook


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def test_the_hook_runs_on_the_changed_files_as_pre_commit_passes_them(tmp_path: Path) -> None:
    """The hook's own definition (entry, pass_filenames, files), applied as pre-commit applies
    it to a commit that changes one good spec: the broken spec the commit does not touch is not
    checked, so the hook passes; staging the broken one makes it fail."""
    hook = _hook()
    assert hook["pass_filenames"] is True
    specs = _stack(tmp_path)
    workflow = tmp_path / "ci.yml"
    workflow.write_text("on: push\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "start")
    (specs / "ok" / "a.yaml").write_text(_SPEC.format(name="a", size="x4"))
    workflow.write_text("on: [push]\n")
    _git(tmp_path, "add", "-A")

    def hook_run() -> subprocess.CompletedProcess[str]:
        staged = _git(tmp_path, "diff", "--cached", "--name-only").split()
        files = [f for f in staged if re.search(str(hook["files"]), f)]
        entry = shlex.split(str(hook["entry"]))
        argv = [str(PROVISIONER), *entry[1:], *files]
        return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)

    passed = hook_run()
    assert passed.returncode == 0, passed.stderr
    assert "1 endpoint spec valid (stack 'hooks', of the 2 files given)" in passed.stdout

    (specs / "broken" / "c.yaml").write_text(_SPEC.format(name="c", size="huger"))
    _git(tmp_path, "add", "-A")
    failed = hook_run()
    assert failed.returncode == 1
    assert "endpoints/broken/c.yaml:3:" in failed.stderr
    assert "'huger'" in failed.stderr
