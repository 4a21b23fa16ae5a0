"""What a stack's state holds, as values, and its JSON documents (versioned, readable).

- `StackState` (`state.json`): per managed endpoint, the spec last applied and a keyed
  fingerprint of each secret value sent with it (the names of its secrets are the keys), and
  the names of the variables the apply side has (`secret_variables`). Never a secret value: a
  fingerprint is an HMAC under a per-stack random key kept in the backend, so someone reading
  the state cannot test guesses without the key either.
- `HistoryRecord` (`history/<time>-<id>.json`): one apply or destroy: who, when, from which
  commit (and whether its checkout had uncommitted changes), whether it was interrupted, the
  instant its schedules were evaluated at, and each change with its outcome.

Ownership is not here: it lives in tags on the endpoints, so a lost state file can never lose
track of what a stack owns (it loses only the secret fingerprints and the history).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = "1.0"
# History records: 1.1 adds `provisioner_version` (the version that applied); 1.2 `interrupted`,
# `git.dirty` and `schedules_evaluated_at`; 1.3 an action's `logs` (a failed deployment's last
# log lines). All four are read.
HISTORY_FORMAT_VERSION = "1.3"
HISTORY_FORMATS_READ = ("1.0", "1.1", "1.2", HISTORY_FORMAT_VERSION)
# What an action's outcome is when the run was cut short before it ended (or began).
CUT_SHORT = ("interrupted", "not-started")
STATE_KEY = "state.json"
FINGERPRINT_KEY = "fingerprint.key"
HISTORY_PREFIX = "history/"


class StateFormatError(ValueError):
    """A state or history document that this version cannot read."""


def _serial(value: Any, *, optional: bool = False) -> int | None:
    """A serial as written: a non-negative integer (`true`, `2.7`, `-5` or `"3"` are not
    serials: a tampered or hand-edited document is refused, never coerced)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"serial must be a non-negative integer, not {json.dumps(value)}")
    return value


def fingerprint(key: bytes, address: str, name: str, value: str) -> str:
    """The keyed fingerprint of secret `name` of endpoint `address` holding `value`. The address
    and name are part of the message, so one value under two names gives two fingerprints."""
    message = "\0".join((address, name, value)).encode("utf-8", "surrogateescape")
    return "hmac-sha256:" + hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, kw_only=True)
class EndpointRecord:
    """What the last apply that changed an endpoint left it with."""

    spec: Mapping[str, Any]  # the effective spec, as `provisioner show` prints it
    # secret name -> fingerprint of the value last sent. None: provisioner has not sent its
    # secrets since the state began (their names then come from the live endpoint, if echoed).
    secrets: Mapping[str, str] | None
    applied_at: str
    applied_by: str
    # The last-applied digest of the spec a failed endpoint was last re-created for: an
    # unattended run re-creates it at most once per spec (absent in older records).
    recreated_for: str | None = None
    # The values the last apply sent that the service did not keep, each `{"path", "before"
    # (what the service reports), "after" (what was sent), "sensitive"}` as a plan lists field
    # changes: not sent again until the spec or the service changes (absent in older records).
    not_kept: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "spec": self.spec,
            "secrets": None if self.secrets is None else dict(sorted(self.secrets.items())),
            "applied_at": self.applied_at,
            "applied_by": self.applied_by,
        }
        if self.recreated_for is not None:
            data["recreated_for"] = self.recreated_for
        if self.not_kept:
            data["not_kept"] = [dict(f) for f in self.not_kept]
        return data

    @classmethod
    def from_json(cls, data: Any) -> EndpointRecord:
        secrets = data["secrets"]
        if secrets is not None and not all(isinstance(v, str) for v in secrets.values()):
            raise TypeError("secret fingerprints must be strings")
        return cls(
            spec=dict(data["spec"]),
            secrets=None if secrets is None else dict(secrets),
            applied_at=str(data["applied_at"]),
            applied_by=str(data["applied_by"]),
            recreated_for=None if data.get("recreated_for") is None else str(data["recreated_for"]),
            not_kept=tuple(_not_kept(data.get("not_kept") or [])),
        )


def _not_kept(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise TypeError("not_kept must be a list")
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise TypeError("each not_kept entry must be an object with a string path")
        if set(item) - {"path", "before", "after", "sensitive"}:
            raise TypeError(f"unknown keys in a not_kept entry: {sorted(item)}")
        out.append(
            {
                "path": item["path"],
                "before": item.get("before"),
                "after": item.get("after"),
                "sensitive": bool(item.get("sensitive", False)),
            }
        )
    return out


@dataclass(frozen=True, kw_only=True)
class StackState:
    stack: str
    serial: int = 0  # +1 on every write: a saved plan made at another serial is stale
    lineage: str | None = None  # set when the state is first written; never changes after
    endpoints: Mapping[str, EndpointRecord] = field(default_factory=dict)
    # The backend version of the document this was read from (None: there was none).
    version: str | None = None
    # The NAMES of the environment variables the apply side (the job that applies on merge,
    # on a schedule, by hand) had set when it last ran, never their values: a plan made
    # without secret values (a pull request's) tells from them whether apply would find a
    # `from_env` secret. None: no apply-side run recorded them yet.
    secret_variables: tuple[str, ...] | None = None

    def dumps(self) -> bytes:
        document: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "stack": self.stack,
            "serial": self.serial,
            "lineage": self.lineage,
            "endpoints": {a: r.to_json() for a, r in sorted(self.endpoints.items())},
        }
        if self.secret_variables is not None:
            # Only when recorded: a state that never had them reads as before.
            document["secret_variables"] = sorted(self.secret_variables)
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def loads(cls, data: bytes, *, version: str, where: str) -> StackState:
        try:
            raw = json.loads(data)
            if raw.get("format_version") != FORMAT_VERSION:
                raise StateFormatError(
                    f"{where}: state format {raw.get('format_version')!r} is not "
                    f"{FORMAT_VERSION!r}; use the provisioner version that wrote it"
                )
            return cls(
                stack=str(raw["stack"]),
                serial=_serial(raw["serial"]) or 0,
                lineage=None if raw["lineage"] is None else str(raw["lineage"]),
                endpoints={
                    str(a): EndpointRecord.from_json(r) for a, r in raw["endpoints"].items()
                },
                version=version,
                secret_variables=_names(raw.get("secret_variables")),
            )
        except StateFormatError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raise StateFormatError(
                f"{where}: not a provisioner state document ({type(error).__name__}: {error}); "
                "restore it from the backend's versioning, or move it away to start afresh "
                "(ownership lives on the endpoints; only secret fingerprints and history are lost)"
            ) from error


def _names(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("secret_variables must be a list of names")
    return tuple(value)


@dataclass(frozen=True, kw_only=True)
class Action:
    """One change of a history record and how it ended."""

    address: str
    action: str
    outcome: str  # ok, failed, refused, interrupted, not-started
    message: str | None = None
    # A failed deployment's last log lines, scrubbed (none before 1.3, or for anything else).
    logs: tuple[str, ...] = ()


def _action_json(action: Action) -> dict[str, Any]:
    document: dict[str, Any] = {
        "address": action.address,
        "action": action.action,
        "outcome": action.outcome,
    }
    if action.message is not None:
        document["message"] = action.message
    if action.logs:
        document["logs"] = list(action.logs)
    return document


def _lines(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("an action's logs must be a list of lines")
    return tuple(value)


@dataclass(frozen=True, kw_only=True)
class HistoryRecord:
    id: str
    operation: str  # apply, destroy
    started: str
    finished: str
    who: str
    host: str
    ci_url: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    serial: int | None = None  # the state serial this apply wrote
    actions: tuple[Action, ...] = ()
    # The provisioner that applied (None in a 1.0 record, written before it was recorded).
    provisioner_version: str | None = None
    # The run was cut short (Ctrl-C, SIGTERM): some changes may not have finished.
    interrupted: bool = False
    # The checkout applied from had uncommitted changes under the stack's folder: the commit
    # is not all that was applied. None: unknown (no checkout, or a record before 1.2).
    git_dirty: bool | None = None
    # The instant the plan evaluated `schedule:` at (UTC, ISO 8601); None: no spec had one.
    schedules_evaluated_at: str | None = None

    def dumps(self) -> bytes:
        document = {
            "format_version": HISTORY_FORMAT_VERSION,
            "provisioner_version": self.provisioner_version,
            "id": self.id,
            "operation": self.operation,
            "started": self.started,
            "finished": self.finished,
            "who": self.who,
            "host": self.host,
            "ci_url": self.ci_url,
            "git": {"commit": self.git_commit, "branch": self.git_branch, "dirty": self.git_dirty},
            "interrupted": self.interrupted,
            "schedules_evaluated_at": self.schedules_evaluated_at,
            "serial": self.serial,
            "actions": [_action_json(a) for a in self.actions],
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()

    @classmethod
    def loads(cls, data: bytes, *, where: str) -> HistoryRecord:
        try:
            raw = json.loads(data)
            if raw.get("format_version") not in HISTORY_FORMATS_READ:
                raise StateFormatError(f"{where}: history format {raw.get('format_version')!r}")
            git = raw.get("git") or {}
            actions = tuple(
                Action(
                    address=str(a["address"]),
                    action=str(a["action"]),
                    outcome=str(a["outcome"]),
                    message=a.get("message"),
                    logs=_lines(a.get("logs")),
                )
                for a in raw["actions"]
            )
            dirty = git.get("dirty")
            # Before 1.2 only an interrupted run left an action interrupted or not started
            # (though one interrupted while waiting for readiness left them all ok).
            interrupted = raw.get("interrupted", any(a.outcome in CUT_SHORT for a in actions))
            if not isinstance(interrupted, bool) or not isinstance(dirty, bool | None):
                raise TypeError("interrupted and git.dirty are true or false")
            evaluated = raw.get("schedules_evaluated_at")
            return cls(
                id=str(raw["id"]),
                operation=str(raw["operation"]),
                started=str(raw["started"]),
                finished=str(raw["finished"]),
                who=str(raw["who"]),
                host=str(raw["host"]),
                ci_url=raw.get("ci_url"),
                git_commit=git.get("commit"),
                git_branch=git.get("branch"),
                serial=_serial(raw.get("serial"), optional=True),
                provisioner_version=raw.get("provisioner_version"),
                actions=actions,
                interrupted=interrupted,
                git_dirty=dirty,
                schedules_evaluated_at=None if evaluated is None else str(evaluated),
            )
        except StateFormatError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
            raise StateFormatError(
                f"{where}: not a provisioner history record ({type(error).__name__}: {error})"
            ) from error
