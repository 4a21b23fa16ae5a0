"""The apply history (`provisioner history`) and the state (`provisioner state show`) as text.
Pure: records in, a string out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from provisioner.render.reasons import counted
from provisioner.state.model import HistoryRecord, StackState

_SHORT_COMMIT = 12


def _commit(record: HistoryRecord) -> str:
    if record.git_commit is None:
        return "  no commit (dirty)" if record.git_dirty else ""
    # Dirty: the stack's folder had uncommitted changes, so the commit is not all that applied.
    about = [b for b in (record.git_branch, "dirty" if record.git_dirty else None) if b]
    detail = f" ({', '.join(about)})" if about else ""
    return f"  commit {record.git_commit[:_SHORT_COMMIT]}{detail}"


def _tally(record: HistoryRecord) -> str:
    counts = Counter(a.outcome for a in record.actions)
    order = ("ok", "failed", "interrupted", "not-started")
    tally = ", ".join(f"{counts[o]} {o}" for o in order if counts[o]) or "no changes"
    return f"interrupted: {tally}" if record.interrupted else tally


def render_history(records: Sequence[HistoryRecord], *, location: str) -> str:
    if not records:
        return f"No applies recorded yet in {location}.\n"
    lines = []
    for record in records:
        ci = f"  {record.ci_url}" if record.ci_url else ""
        serial = f"  serial {record.serial}" if record.serial is not None else ""
        lines.append(
            f"{record.started}  {record.operation:<7}  {record.who}@{record.host}  "
            f"{_tally(record)}{serial}{_commit(record)}{ci}"
        )
        if record.schedules_evaluated_at is not None:
            lines.append(f"    schedules evaluated at {record.schedules_evaluated_at}")
        for action in record.actions:
            why = f": {action.message}" if action.message else ""
            lines.append(f"    {action.outcome:<11} {action.action:<7} {action.address}{why}")
            lines.extend(f"        | {line}" for line in action.logs)
    return "\n".join(lines) + "\n"


def render_state(state: StackState, *, location: str) -> str:
    if not state.endpoints:
        return f"Stack {state.stack!r}: no endpoint recorded yet in {location}.\n"
    lines = [
        f"Stack {state.stack!r} at {location}: serial {state.serial}, "
        f"{counted(len(state.endpoints), 'endpoint')} recorded"
    ]
    for address, record in sorted(state.endpoints.items()):
        if record.secrets is None:
            secrets = "secrets not recorded"
        elif record.secrets:
            secrets = "secrets " + ", ".join(sorted(record.secrets)) + " (fingerprints)"
        else:
            secrets = "no secrets"
        lines.append(f"  {address}: applied {record.applied_at} by {record.applied_by}; {secrets}")
    return "\n".join(lines) + "\n"
