"""`plan --root` and `apply --root`: every stack under a folder (the folders holding
`_settings.yaml`), each planned or applied with its own lock, a bad stack reported and skipped
while the others still run, the exit codes combined, `--changed-since` against a real git
repository, and the mistakes a root can hold (two stacks with one name, a stack in a stack)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.reconcile.helpers import live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def _stack(root: Path, folder: str, name: str) -> Path:
    path = root / folder
    path.mkdir(parents=True, exist_ok=True)
    (path / "_settings.yaml").write_text(f"stack: {name}\nnamespace: acme\n")
    return path


def _three(tmp_path: Path) -> Path:
    """broken (a spec error), busy (an endpoint to create), quiet (nothing to do)."""
    root = tmp_path / "stacks"
    broken = _stack(root, "broken", "team-broken")
    write_spec(broken, "bad", scaling={"max_replica": 2})
    write_spec(_stack(root, "busy", "team-busy"), "chat")
    _stack(root, "teams/quiet", "team-quiet")
    return root


def test_plan_over_a_root_plans_every_stack_and_combines_the_exit_codes(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    root = _three(tmp_path)

    run = cli("plan", "--root", str(root), "--detailed-exitcode")

    assert run.code == 1, run.text  # an error wins over changes
    assert "broken/bad.yaml:" in run.err and "unknown key 'max_replica'" in run.err
    # The stacks after the broken one were still planned, each under its own header.
    assert "==> stack team-busy" in run.out and "acme/chat: create" in run.out
    assert "==> stack team-quiet" in run.out and "No changes" in run.out
    last = run.err.strip().splitlines()[-1]
    assert last.startswith("plan over 3 stack(s): ")
    assert "team-broken" in last and "errors" in last
    assert "team-busy" in last and "changes" in last and "team-quiet" in last
    assert mutations(emulator) == []

    (root / "broken" / "bad.yaml").unlink()
    assert cli("plan", "--root", str(root), "--detailed-exitcode").code == 2
    assert cli("plan", "--root", str(root)).code == 0


def test_apply_over_a_root_applies_the_good_stacks_and_never_the_broken_one(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    root = _three(tmp_path)
    write_spec(root / "broken", "fine")  # a good spec beside the bad one: never half-applied

    run = cli("apply", "--root", str(root), "--auto-approve", "--no-wait")

    assert run.code == 1, run.text
    assert "stack team-broken: not applied" in run.err
    assert set(live(emulator)) == {"chat"}
    assert "team-busy (" in run.err.splitlines()[-1] and "applied" in run.err.splitlines()[-1]
    # Each stack has its own state (and so its own lock): the applied one recorded its apply.
    history = cli("history", "--dir", str(root / "busy"), "--json")
    assert history.code == 0 and "chat" in history.out


def test_markdown_over_a_root_is_one_document_with_a_section_per_stack(
    tmp_path: Path, cli: Cli
) -> None:
    root = _three(tmp_path)
    (root / "broken" / "bad.yaml").unlink()
    out_dir = tmp_path / "plans"

    run = cli("plan", "--root", str(root), "--format", "markdown", "--out-dir", str(out_dir))

    assert run.code == 0, run.text
    sections = [line for line in run.out.splitlines() if line.startswith("## Stack ")]
    assert [s.split("`")[1] for s in sections] == ["team-broken", "team-busy", "team-quiet"]
    assert run.out.count("<!-- provisioner-changes-digest: sha256:") == 3
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "team-broken.json",
        "team-busy.json",
        "team-quiet.json",
    ]
    assert json.loads((out_dir / "team-busy.json").read_text())["changes"][0]["address"] == (
        "acme/chat"
    )


def test_a_root_refuses_dir_out_and_json_and_mistakes_between_stacks(
    tmp_path: Path, cli: Cli
) -> None:
    root = _three(tmp_path)
    for extra in (["--dir", str(root / "busy")], ["--out", "p.json"], ["--json"]):
        run = cli("plan", "--root", str(root), *extra)
        assert run.code == 1 and "cannot be used together" in run.err, extra
    assert "--changed-since" in cli("plan", "--changed-since", "main").err

    # Two stacks with one name, and a stack inside another's folder: both named, nothing run.
    _stack(root, "copy", "team-busy")
    _stack(root, "busy/inner", "team-inner")
    run = cli("plan", "--root", str(root))
    assert run.code == 1
    assert "copy/_settings.yaml:" in run.err and "is also the name of the stack at" in run.err
    assert "busy/_settings.yaml" in run.err
    assert (
        "inner/_settings.yaml:" in run.err and "inside the folder of stack 'team-busy'" in run.err
    )
    assert "==> stack" not in run.out


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.slow
def test_changed_since_plans_only_the_stacks_a_branch_changed(tmp_path: Path, cli: Cli) -> None:
    root = _three(tmp_path)
    (root / "broken" / "bad.yaml").unlink()
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "three stacks")
    _git(tmp_path, "checkout", "-q", "-b", "change")
    write_spec(root / "teams" / "quiet", "summarizer")
    (root / "busy" / "_settings.yaml").write_text("stack: team-busy\nnamespace: acme\n# x\n")
    _git(tmp_path, "commit", "-q", "-am", "settings")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "a spec")

    run = cli("plan", "--root", str(root), "--changed-since", "main", "--detailed-exitcode")

    assert run.code == 2, run.text
    assert "==> stack team-quiet" in run.out and "acme/summarizer: create" in run.out
    assert "==> stack team-busy" in run.out  # its _settings.yaml changed
    assert "team-broken" not in run.out
    assert "team-broken (" in run.err and "skipped: unchanged since main" in run.err
    listed = json.loads(cli("stacks", "--root", str(root), "--changed-since", "main", "--json").out)
    assert {s["stack"]: s["changed"] for s in listed["stacks"]} == {
        "team-broken": False,
        "team-busy": True,
        "team-quiet": True,
    }

    bad = cli("plan", "--root", str(root), "--changed-since", "no-such-branch")
    assert bad.code == 1 and "--changed-since no-such-branch: git diff" in bad.err
