"""The words for plan reasons: `Reason` (a code plus values) in, a sentence out. Pure.

The planner only says *why* as data (`provisioner.plan.model.ReasonCode`); every human wording
of a reason lives here, so the text plan, and any later view, say it the same way. Each code has
exactly one entry in `SENTENCES` (a test fails when a code is added without one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from provisioner.hub.models import is_commit
from provisioner.plan.model import (
    DEFAULT_BRANCH,
    Reason,
    ReasonCode,
    ResourceChange,
    ScheduleNote,
)

Sentence = Callable[[Reason, ResourceChange], str]

REPLACED = "deleted, then created again (the URL changes)"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 endpoint`, `4 endpoints`."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def names(paths: Sequence[str]) -> str:
    """`a`, `a, b`, `a, b, c and 2 more`."""
    more = f" and {len(paths) - 3} more" if len(paths) > 3 else ""
    return ", ".join(paths[:3]) + more


# Fields named by a plural noun: "tags differ", as "max_replicas differs" (one setting).
PLURAL_FIELDS = frozenset({"tags", "args", "secrets", "engine_options"})


def agree(paths: Sequence[str], singular: str, plural: str) -> str:
    """The verb for `names(paths)` as its subject: plural for several fields, or one whose
    name is a plural noun."""
    several = len(paths) > 1 or (paths and paths[0].rsplit(".", 1)[-1] in PLURAL_FIELDS)
    return plural if several else singular


def _fields_differ(reason: Reason, _: ResourceChange) -> str:
    return f"{names(reason.paths)} {agree(reason.paths, 'differs', 'differ')} from the spec"


def _update_failed(reason: Reason, _: ResourceChange) -> str:
    message = f" ({reason.message})" if reason.message else ""
    return f"its last update failed{message}; sending the declared configuration"


def _failed(reason: Reason, _: ResourceChange) -> str:
    message = f": {reason.message}" if reason.message else ""
    return (
        f"it is in state failed{message}; the service cannot repair a failed endpoint: {REPLACED}"
    )


def _forces_replacement(reason: Reason, change: ResourceChange) -> str:
    by_path = {f.path: f for f in change.fields}

    def one(path: str) -> str:
        field = by_path.get(path)
        return path if field is None else f"{path} {field.before} -> {field.after}"

    return f"{', '.join(one(p) for p in reason.paths)} cannot change in place: {REPLACED}"


def short(revision: str) -> str:
    """A commit as people write it (7 hex digits); any other revision as it is."""
    return revision[:7] if is_commit(revision) else revision


def _revision_moved(reason: Reason, change: ResourceChange) -> str:
    name = change.revision_from or "the revision"
    name = f"the {name}" if name == DEFAULT_BRANCH else name
    found = [f for f in change.fields if f.path in reason.paths]
    if not found or found[0].after is None or found[0].before is None:
        return f"{name} is at another commit than the endpoint runs"
    after, before = short(str(found[0].after)), short(str(found[0].before))
    return f"{name} is now at {after}; the endpoint runs {before}"


def _secret_changed(reason: Reason, _: ResourceChange) -> str:
    which = "secret" if len(reason.paths) == 1 else "secrets"
    return (
        f"{which} {names(reason.paths)} changed (the environment holds another value than the "
        "one last applied): secrets sent again"
    )


def _fixed(text: str) -> Sentence:
    return lambda _reason, _change: text


SENTENCES: dict[ReasonCode, Sentence] = {
    ReasonCode.DOES_NOT_EXIST: _fixed("does not exist yet"),
    ReasonCode.PAUSED_AFTER_CREATE: _fixed("paused right after creation (state: paused)"),
    ReasonCode.ADOPTING: _fixed("adopting an existing endpoint (adopt: true): adds ownership tags"),
    ReasonCode.SPEC_UNREADABLE_KEPT: _fixed(
        "but a spec file cannot be read and may declare it (and whether it is protected): kept "
        "until every spec loads"
    ),
    ReasonCode.RELEASED: _fixed(
        "released: this stack's ownership, protection and last-applied tags are removed; the "
        "endpoint itself is left as it is"
    ),
    ReasonCode.TAGS_REWRITTEN: _fixed(
        "ownership tags rewritten in the conservative form (provisioner-stack-..., was "
        "provisioner.stack=...)"
    ),
    ReasonCode.UPDATE_FAILED_RETRY: _update_failed,
    ReasonCode.RESEND_SECRETS: _fixed("secrets sent again (--resend-secrets)"),
    ReasonCode.RESEND_NOT_KEPT: lambda r, _: (
        f"{names(r.paths)} sent again, although the service did not keep "
        f"{'them' if len(r.paths) > 1 else 'it'} last time (--resend-not-kept)"
    ),
    ReasonCode.SECRET_CHANGED: _secret_changed,
    ReasonCode.FIELDS_DIFFER: _fields_differ,
    ReasonCode.CHANGED_OUTSIDE: lambda r, _: f"{names(r.paths)} changed outside provisioner",
    ReasonCode.REVISION_MOVED: _revision_moved,
    ReasonCode.PAUSE_DECLARED: lambda r, _: f"state: paused declared, it is {r.state}",
    ReasonCode.RESUMED_OUTSIDE: lambda r, _: (
        f"resumed outside provisioner (it is {r.state}); state: paused declared"
    ),
    ReasonCode.RESUME_DECLARED: _fixed("state: running declared, it is paused"),
    ReasonCode.PAUSED_OUTSIDE: _fixed("paused outside provisioner; state: running declared"),
    ReasonCode.SCALED_TO_ZERO_RESUME: lambda r, _: (
        f"scaled to zero although min_replicas is {r.min_replicas}: resumed"
    ),
    ReasonCode.SCHEDULE_PAUSE: lambda r, _: f"paused by its schedule, it is {r.state}",
    ReasonCode.SCHEDULE_RESUME: _fixed("resumed by its schedule, it is paused"),
    ReasonCode.SCHEDULE_SCALING: lambda r, _: f"{names(r.paths)} set by its schedule",
    ReasonCode.FAILED_REPLACE: _failed,
    ReasonCode.FORCES_REPLACEMENT: _forces_replacement,
    ReasonCode.SPEC_REMOVED: _fixed("its spec was removed"),
    ReasonCode.DESTROY_REQUESTED: _fixed("destroy requested"),
    ReasonCode.PROTECTED_KEPT: _fixed(
        "but it is protected: kept (apply it with 'protect: false' first to delete it)"
    ),
    ReasonCode.FAILED_AGAIN: lambda r, _: (
        "failed again after an unattended apply re-created it for this spec"
        + (f" ({r.message})" if r.message else "")
        + ": not re-created again unattended (change the spec, or apply by hand)"
    ),
    ReasonCode.NOT_SCHEDULED: _fixed(
        "left alone: a scheduled run makes only the schedules' changes (no self_heal)"
    ),
    ReasonCode.SCALED_TO_ZERO_IDLE: _fixed("scaled to zero: it starts again on the next request"),
    ReasonCode.MATCHES: _fixed("matches the spec"),
    ReasonCode.NOT_KEPT: lambda r, _: (
        f"matches the spec, except {names(r.paths)}, which the service did not keep"
    ),
    ReasonCode.NOT_SETTLED: lambda r, _: f"but is not running yet ({r.state})",
}

# Codes that qualify the reason before them, so they join it with a comma, not a semicolon:
# "its spec was removed, but it is protected: kept (...)".
QUALIFIERS = frozenset(
    {ReasonCode.PROTECTED_KEPT, ReasonCode.NOT_SETTLED, ReasonCode.SPEC_UNREADABLE_KEPT}
)


def sentence(reason: Reason, change: ResourceChange) -> str:
    return SENTENCES[reason.code](reason, change)


def describe(change: ResourceChange) -> str:
    """All of a change's reasons as one line: `a; b`, or `a, but b` for a qualifier."""
    text = ""
    for reason in change.reasons:
        separator = ", " if reason.code in QUALIFIERS else "; "
        text += (separator if text else "") + sentence(reason, change)
    return text


def _when(note: ScheduleNote) -> str:
    return f"{note.until_local} ({note.until})"


def schedule_line(note: ScheduleNote) -> str:
    """What a schedule decided, in one line: `running: window mon-fri 08:00-20:00
    Europe/Madrid until Fri 2027-03-26 20:00 CET (2027-03-26T19:00:00Z)`."""
    if note.kill_switch:
        return "paused: state: paused declared, which wins over its schedule"
    if note.window is not None:
        return f"running: window {note.window} {note.timezone} until {_when(note)}"
    how = "paused" if note.state == "paused" else "scaled to zero (min_replicas 0)"
    return f"{how} outside its schedule ({note.timezone}); next window opens {_when(note)}"
