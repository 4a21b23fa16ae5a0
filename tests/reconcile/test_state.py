"""The stack's state, end to end through the CLI against the emulator: a changed secret value is
planned as an update without its value being stored or shown; a saved plan goes stale when
another apply ran since; the history says who applied what; a held lock stops an apply before
it changes anything, naming its holder and the command that releases it."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioner import __version__
from provisioner.emulator import Emulator
from provisioner.state.backend import BackendError, LockInfo
from provisioner.state.local import LocalBackend
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
FIRST, SECOND = "first-value-of-the-api-key-0001", "second-value-of-the-api-key-0002"


def _stack(tmp_path: Path) -> Path:
    specs = tmp_path / "repo" / "endpoints"
    write_spec(
        specs,
        "svc",
        namespace="acme",
        model={"secrets": {"API_KEY": {"from_env": "SVC_API_KEY"}}},
    )
    (specs / "_settings.yaml").write_text("stack: team\n")
    return specs


def _position(path: Path, text: str) -> tuple[int, int]:
    lines = path.read_text().splitlines()
    return next((n, line.index(text) + 1) for n, line in enumerate(lines, 1) if text in line)


def _state_dir(specs: Path) -> Path:
    # Not in a git repository: the state folder is in the spec directory.
    return specs / ".provisioner" / "team"


def _everything_written(folder: Path) -> str:
    return "\n".join(p.read_text() for p in folder.rglob("*") if p.is_file())


def _puts(emulator: Emulator) -> list[dict[str, Any]]:
    return [r["body"] for r in emulator.requests() if r["method"] == "PUT"]


def test_changing_only_a_secret_value_plans_an_update_and_no_value_is_kept(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    first = context_for(emulator, SVC_API_KEY=FIRST)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=first).code == 0
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=first).code == 0

    second = context_for(emulator, SVC_API_KEY=SECOND)
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=second)
    assert plan.code == 2, plan.text
    assert "secret API_KEY changed" in plan.out
    emulator.clear_requests()
    applied = cli("apply", "--dir", str(specs), "--auto-approve", ctx=second)
    assert applied.code == 0, applied.text
    (put,) = _puts(emulator)
    assert put["model"]["secrets"] == {"API_KEY": "***"}  # the value was sent (log redacts it)
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=second).code == 0

    written = _everything_written(_state_dir(specs))
    assert "hmac-sha256:" in written
    for value in (FIRST, SECOND):
        assert value not in written
    history = cli("history", "--dir", str(specs), ctx=second)
    assert history.code == 0
    for value in (FIRST, SECOND):
        assert value not in history.text


def test_a_secret_whose_variable_is_unset_where_the_plan_runs_is_named(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    first = context_for(emulator, SVC_API_KEY=FIRST)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=first).code == 0
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=context_for(emulator))
    assert plan.code == 0, plan.text
    assert "acme/svc" in plan.err and "not set here" in plan.err


def test_a_plan_that_sends_a_secret_whose_variable_is_unset_says_apply_will_refuse(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    unset = context_for(emulator)  # a pull-request job without the secret
    plan = cli("plan", "--dir", str(specs), ctx=unset)
    assert plan.code == 0, plan.text
    assert "acme/svc: create" in plan.out
    # At the spec's line that asks for the variable, not at the settings file.
    line, col = _position(specs / "svc.yaml", "SVC_API_KEY")
    assert (
        f"svc.yaml:{line}:{col}: warning: acme/svc: apply will refuse this create until "
        "SVC_API_KEY is set (it sends secret API_KEY, read from the environment)" in plan.err
    )
    emulator.clear_requests()
    applied = cli("apply", "--dir", str(specs), "--auto-approve", ctx=unset)
    assert applied.code == 1
    assert "secret API_KEY needs environment variable SVC_API_KEY, which is not set" in (
        applied.err
    )
    assert mutations(emulator) == []
    # With the variable set, the plan has nothing to warn about.
    clean = cli("plan", "--dir", str(specs), ctx=context_for(emulator, SVC_API_KEY=FIRST))
    assert "apply will refuse" not in clean.err


def test_history_records_who_applied_what(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = _stack(tmp_path)
    ctx = context_for(
        emulator,
        SVC_API_KEY=FIRST,
        GITHUB_RUN_ID="77",
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_REPOSITORY="acme/infra",
        GITHUB_ACTOR="octocat",
        GITHUB_SHA="0123456789abcdef0123456789abcdef01234567",
        GITHUB_REF_NAME="main",
    )
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    secrets = {"API_KEY": {"from_env": "SVC_API_KEY"}}
    write_spec(specs, "svc", namespace="acme", state="paused", model={"secrets": secrets})
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    shown = cli("history", "--dir", str(specs), ctx=ctx)
    assert shown.code == 0, shown.text
    lines = shown.out.splitlines()
    assert "octocat@" in lines[0] and "https://github.com/acme/infra/actions/runs/77" in lines[0]
    assert "commit 0123456789ab (main)" in lines[0]
    assert any("ok" in line and "create" in line and "acme/svc" in line for line in lines)
    listed = cli("history", "--dir", str(specs), "--json", ctx=ctx)
    records = [json.loads(line) for line in listed.out.splitlines()]
    assert [r["serial"] for r in records] == [2, 1]  # newest first
    assert {r["provisioner_version"] for r in records} == {__version__}
    assert records[1]["actions"] == [{"address": "acme/svc", "action": "create", "outcome": "ok"}]
    # Not a git checkout (the commit came from CI's variables): whether it was dirty is unknown;
    # nothing was interrupted; no spec has a schedule.
    assert {
        (r["git"]["dirty"], r["interrupted"], r["schedules_evaluated_at"]) for r in records
    } == {(None, False, None)}


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_history_says_when_the_stacks_folder_had_uncommitted_changes(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Applied from a checkout: the commit, and whether the stack's folder differed from it
    (a changed or new spec file); a change elsewhere in the repository does not count."""
    specs = _stack(tmp_path)
    repo = specs.parent
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("infra\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "specs")
    commit = _git(repo, "rev-parse", "HEAD")
    ctx = context_for(emulator, SVC_API_KEY=FIRST)

    def newest() -> tuple[str, dict[str, Any]]:
        text = cli("history", "--dir", str(specs), "--limit", "1", ctx=ctx).out.splitlines()[0]
        listed = cli("history", "--dir", str(specs), "--limit", "1", "--json", ctx=ctx).out
        return text, json.loads(listed)

    (repo / "README.md").write_text("infra, edited\n")  # outside the stack's folder
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    text, record = newest()
    assert record["git"] == {"commit": commit, "branch": "main", "dirty": False}
    assert text.endswith(f"commit {commit[:12]} (main)"), text

    write_spec(specs, "svc", namespace="acme", state="paused")  # edited, not committed
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    text, record = newest()
    assert record["git"] == {"commit": commit, "branch": "main", "dirty": True}
    assert text.endswith(f"commit {commit[:12]} (main, dirty)"), text

    _git(repo, "commit", "-q", "-am", "pause svc")
    write_spec(specs, "other", namespace="acme")  # a new spec, not yet added
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    text, record = newest()
    assert record["git"]["dirty"] is True and "(main, dirty)" in text


def test_a_saved_plan_is_stale_once_another_apply_ran(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    ctx = context_for(emulator, SVC_API_KEY=FIRST)
    write_spec(specs, "other", namespace="acme")
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved), ctx=ctx).code == 0
    # Someone applies in between (here: the same changes, and one more endpoint).
    write_spec(specs, "third", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    emulator.clear_requests()
    late = cli("apply", str(saved), "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert late.code == 1
    assert "another apply ran since" in late.err
    assert mutations(emulator) == []


def test_a_held_lock_stops_apply_before_any_change_and_names_its_holder(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    ctx = context_for(emulator, SVC_API_KEY=FIRST)
    holder = LocalBackend(_state_dir(specs))
    info = LockInfo(
        id="a1b2c3",
        operation="apply",
        who="alice",
        host="laptop-7",
        pid=4242,
        created="2026-11-28T17:00:00Z",
        ci_url=None,
    )
    holder.acquire(info)
    try:
        emulator.clear_requests()
        blocked = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
        assert blocked.code == 1
        assert "held by alice on host laptop-7 (pid 4242) for apply" in blocked.err
        assert f"provisioner state unlock a1b2c3 --dir {specs}" in blocked.err
        assert mutations(emulator) == []
        shown = cli("state", "show", "--dir", str(specs), ctx=ctx)
        assert "held by alice" in shown.out
    finally:
        holder.release(info.id)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0


def test_one_unreadable_history_record_hides_no_other(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    ctx = context_for(emulator, SVC_API_KEY=FIRST)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    write_spec(specs, "svc", namespace="acme", state="paused")
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    oldest, _newest = sorted(tmp_path.rglob("history/*.json"))
    oldest.write_text('{"format_version": "1.2", "serial": true}')
    shown = cli("history", "--dir", str(specs), ctx=ctx)
    assert shown.code == 0, shown.text
    assert f"{oldest.name}: not a provisioner history record" in shown.err
    assert "the other records are shown" in shown.err
    assert "pause" in shown.out and "acme/svc" in shown.out
    listed = cli("history", "--dir", str(specs), "--json", ctx=ctx)
    assert [json.loads(line)["serial"] for line in listed.out.splitlines()] == [2]


def test_a_lock_that_cannot_be_released_is_reported_with_the_unlock_command_as_printed(
    tmp_path: Path, cli: Cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The apply went through; releasing its lock failed (a storage fault): that is said for
    what it is, with the command that releases it, which then works as printed."""
    specs = _stack(tmp_path)
    state = tmp_path / "elsewhere"
    ctx = context_for(emulator, SVC_API_KEY=FIRST, PROVISIONER_BACKEND=f"local:{state}")
    release = LocalBackend.release

    def failing(self: LocalBackend, lock_id: str) -> None:
        raise BackendError("injected: the storage refused the delete")

    monkeypatch.setattr(LocalBackend, "release", failing)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert result.code == 1
    assert "the apply finished as reported above, but its state lock" in result.err
    assert "internal error" not in result.err
    assert "svc" in live(emulator)
    command = result.err.split("until released with: ")[1].strip()
    assert command.startswith(f"PROVISIONER_BACKEND=local:{state} provisioner state unlock ")
    monkeypatch.setattr(LocalBackend, "release", release)
    # Run as printed, it addresses the lock where the apply took it (a local lock is an OS
    # lock this test process still holds, so here it is refused for that reason, by name).
    args = shlex.split(command.split(" ", 1)[1])[1:]  # after `PROVISIONER_BACKEND=... provisioner`
    unlocked = cli(*args, ctx=ctx)
    assert f"the state at {state}" in unlocked.err, unlocked.text
    assert "is still running" in unlocked.err


def test_a_deleted_fingerprint_key_is_said_and_resend_secrets_records_a_new_one(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    first = context_for(emulator, SVC_API_KEY=FIRST)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=first).code == 0
    key = _state_dir(specs) / "fingerprint.key"
    key.unlink()
    # The value rotated too: without the key that cannot be seen, and the plan says so.
    second = context_for(emulator, SVC_API_KEY=SECOND)
    plan = cli("plan", "--dir", str(specs), ctx=second)
    assert plan.code == 0, plan.text
    assert "the key they were made with (fingerprint.key, beside the state) is missing" in plan.err
    hint = plan.err.split("`")[1]
    assert hint.startswith("provisioner apply --resend-secrets --dir ")
    applied = cli(*shlex.split(hint)[1:], "--auto-approve", ctx=second)
    assert applied.code == 0, applied.text
    assert key.is_file()
    again = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=second)
    assert again.code == 0, again.text
    assert "fingerprint.key" not in again.err


@pytest.mark.parametrize(
    ("failing", "said", "kept"),
    [
        ("history/", "the history record could not be written", "state.json"),
        ("state.json", "the state could not be written", "history/"),
    ],
)
def test_a_failed_record_write_is_said_for_what_it_is_and_the_other_is_written(
    tmp_path: Path,
    cli: Cli,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
    said: str,
    kept: str,
) -> None:
    specs = _stack(tmp_path)
    write = LocalBackend.write

    def faulty(self: LocalBackend, key: str, data: bytes, **options: Any) -> Any:
        if key.startswith(failing):
            raise BackendError(f"injected: {key} refused")
        return write(self, key, data, **options)

    monkeypatch.setattr(LocalBackend, "write", faulty)
    result = cli(
        "apply", "--dir", str(specs), "--auto-approve", ctx=context_for(emulator, SVC_API_KEY=FIRST)
    )
    assert result.code == 1
    assert f"the changes were made as reported, but at {_state_dir(specs)}" in result.err
    assert said in result.err
    other = "the state could not" if failing == "history/" else "the history record could not"
    assert other not in result.err
    assert "svc" in live(emulator)
    assert list(_state_dir(specs).glob(kept + ("*" if kept.endswith("/") else "")))
