"""History records as stored: this version writes format 1.3 (1.2's `interrupted`,
`git.dirty`, `schedules_evaluated_at`, and an action's `logs`) and still reads the 1.0, 1.1 and
1.2 records older versions left, and `provisioner history` shows what each says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioner.render.history import render_history
from provisioner.state.model import (
    HISTORY_FORMAT_VERSION,
    Action,
    HistoryRecord,
    StateFormatError,
)


def _document(version: str, **fields: Any) -> bytes:
    document: dict[str, Any] = {
        "format_version": version,
        "id": "run1",
        "operation": "apply",
        "started": "2026-11-28T17:00:00Z",
        "finished": "2026-11-28T17:01:00Z",
        "who": "alice",
        "host": "laptop",
        "ci_url": None,
        "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main"},
        "serial": 3,
        "actions": [{"address": "acme/svc", "action": "create", "outcome": "ok"}],
        **fields,
    }
    return json.dumps(document).encode()


def test_a_record_round_trips_in_the_current_format() -> None:
    record = HistoryRecord(
        id="run2",
        operation="apply",
        started="2027-03-26T19:00:05Z",
        finished="2027-03-26T19:00:40Z",
        who="alice",
        host="laptop",
        git_commit="0123456789abcdef0123456789abcdef01234567",
        git_branch="main",
        git_dirty=True,
        interrupted=True,
        schedules_evaluated_at="2027-03-26T19:00:00Z",
        actions=(
            Action(address="acme/svc", action="pause", outcome="interrupted"),
            Action(
                address="acme/bad",
                action="create",
                outcome="failed",
                message="acme/bad failed to deploy: OOM",
                logs=("2027-03-26T19:00:30.000Z Error: OOM", "2027-03-26T19:00:30.000Z exit 1"),
            ),
        ),
    )
    stored = json.loads(record.dumps())
    assert stored["format_version"] == HISTORY_FORMAT_VERSION == "1.3"
    assert "logs" not in stored["actions"][0]  # none: not written
    assert stored["actions"][1]["logs"][0] == "2027-03-26T19:00:30.000Z Error: OOM"
    assert stored["git"]["dirty"] is True and stored["interrupted"] is True
    assert stored["schedules_evaluated_at"] == "2027-03-26T19:00:00Z"
    assert HistoryRecord.loads(record.dumps(), where="history/run2.json") == record


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_older_records_are_read_with_what_they_did_not_record_unknown(version: str) -> None:
    record = HistoryRecord.loads(_document(version), where="history/run1.json")
    assert (record.git_dirty, record.schedules_evaluated_at, record.interrupted) == (
        None,
        None,
        False,
    )
    assert record.actions[0].outcome == "ok" and record.actions[0].logs == ()


def test_logs_that_are_not_a_list_of_lines_are_not_a_history_record() -> None:
    actions = [{"address": "acme/a", "action": "create", "outcome": "failed", "logs": "oops"}]
    with pytest.raises(StateFormatError, match="logs must be a list of lines"):
        HistoryRecord.loads(_document("1.3", actions=actions), where="history/run1.json")


def test_history_shows_a_failed_deployment_s_log_lines_under_it() -> None:
    actions = [
        {
            "address": "acme/a",
            "action": "create",
            "outcome": "failed",
            "message": "acme/a failed to deploy: OOM",
            "logs": ["T Error: OOM", "T Container exited with code 1"],
        }
    ]
    record = HistoryRecord.loads(_document("1.3", actions=actions), where="history/run1.json")
    lines = render_history([record], location="local").splitlines()
    assert lines[1:] == [
        "    failed      create  acme/a: acme/a failed to deploy: OOM",
        "        | T Error: OOM",
        "        | T Container exited with code 1",
    ]


def test_an_older_record_with_a_change_cut_short_reads_as_interrupted() -> None:
    """Before 1.2 only an interrupted run left a change interrupted or not started."""
    actions = [
        {"address": "acme/a", "action": "create", "outcome": "interrupted"},
        {"address": "acme/b", "action": "create", "outcome": "not-started"},
    ]
    record = HistoryRecord.loads(_document("1.1", actions=actions), where="history/run1.json")
    assert record.interrupted is True


def test_a_dirty_flag_that_is_not_a_boolean_is_not_a_history_record() -> None:
    git = {"commit": "0123456789abcdef", "branch": "main", "dirty": "yes"}
    with pytest.raises(StateFormatError, match=r"history/run1\.json: not a provisioner history"):
        HistoryRecord.loads(_document("1.2", git=git), where="history/run1.json")


def test_history_shows_interrupted_runs_dirty_commits_and_when_schedules_were_evaluated() -> None:
    interrupted = HistoryRecord.loads(
        _document(
            "1.2",
            git={"commit": "0123456789abcdef", "branch": "main", "dirty": True},
            interrupted=True,
            schedules_evaluated_at="2027-03-26T19:00:00Z",
            actions=[{"address": "acme/svc", "action": "pause", "outcome": "interrupted"}],
        ),
        where="history/run1.json",
    )
    clean = HistoryRecord.loads(
        _document("1.2", git={"commit": "fedcba9876543210", "branch": None, "dirty": False}),
        where="history/run0.json",
    )
    lines = render_history([interrupted, clean], location="s3://b/p").splitlines()
    assert lines[0].endswith(
        "interrupted: 1 interrupted  serial 3  commit 0123456789ab (main, dirty)"
    )
    assert lines[1] == "    schedules evaluated at 2027-03-26T19:00:00Z"
    assert lines[2] == "    interrupted pause   acme/svc"
    assert lines[3].endswith("1 ok  serial 3  commit fedcba987654")  # clean: nothing added
    assert lines[4] == "    ok          create  acme/svc"


@pytest.mark.parametrize("serial", [True, 2.7, -5, "3"])
def test_a_serial_that_is_not_a_non_negative_integer_is_refused(serial: object) -> None:
    with pytest.raises(StateFormatError, match="serial must be a non-negative integer"):
        HistoryRecord.loads(_document(HISTORY_FORMAT_VERSION, serial=serial), where="h.json")


@pytest.mark.parametrize("serial", [True, 2.7, -5, "3"])
def test_a_state_whose_serial_is_not_a_non_negative_integer_is_refused(serial: object) -> None:
    from provisioner.state.model import FORMAT_VERSION, StackState

    document = {
        "format_version": FORMAT_VERSION,
        "stack": "team",
        "serial": serial,
        "lineage": None,
        "endpoints": {},
    }
    with pytest.raises(StateFormatError, match="serial must be a non-negative integer"):
        StackState.loads(json.dumps(document).encode(), version="v1", where="state.json")


def test_a_document_nested_too_deep_is_a_format_error_not_a_crash() -> None:
    from provisioner.state.model import StackState

    deep = b'{"format_version": "1.0", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(StateFormatError, match="not a provisioner state document"):
        StackState.loads(deep, version="v1", where="state.json")
    with pytest.raises(StateFormatError, match="not a provisioner history record"):
        HistoryRecord.loads(deep, where="history/x.json")
