"""What a stack's state learns from a plan and an apply: the secret fingerprints the planner
compares, the records an apply leaves, and its history entry.

Values only: the workflow reads and writes the store; the functions here compute what to write.
A secret value is used for one thing, an HMAC under the stack's key, and never kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from provisioner import __version__
from provisioner.apply.results import LOG_LINE_CHARS, Ledger, Outcome
from provisioner.apply.smoke_tests import tested
from provisioner.apply.waiter import GONE, target
from provisioner.hub.models import Config, Secrets
from provisioner.plan import ownership
from provisioner.plan.diff import SENSITIVE
from provisioner.plan.document import config_to_json
from provisioner.plan.model import Action, Plan, ReasonCode, ResourceChange, SecretsSeen
from provisioner.spec.diagnostics import clip
from provisioner.spec.model import EndpointSpec
from provisioner.spec.scrub import Scrubber, secret_values
from provisioner.spec.secrets import looks_secret
from provisioner.spec.smoke import SmokeSpec
from provisioner.state.model import (
    Action as Done,
)
from provisioner.state.model import (
    EndpointRecord,
    HistoryRecord,
    StackState,
    fingerprint,
)


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who runs this apply, for the lock and the history (the CLI finds it out)."""

    who: str
    host: str
    pid: int
    ci_url: str | None = None
    git_commit: str | None = None
    git_branch: str | None = None
    # The checkout had uncommitted changes under the stack's folder (None: unknown).
    git_dirty: bool | None = None


def secrets_seen(
    specs: Sequence[EndpointSpec], state: StackState, key: bytes | None, environ: Mapping[str, str]
) -> SecretsSeen:
    """The state's fingerprints and those of the values the environment holds now."""
    current: dict[str, dict[str, str]] = {}
    unset: dict[str, tuple[str, ...]] = {}
    held = False  # a value to compare is set here
    for spec in specs:
        if not spec.model.secrets:
            continue
        address = f"{spec.namespace}/{spec.name}"
        values = {name: environ.get(ref.from_env) for name, ref in spec.model.secrets.items()}
        current[address] = (
            {}
            if key is None
            else {n: fingerprint(key, address, n, v) for n, v in values.items() if v is not None}
        )
        held = held or any(v is not None for v in values.values())
        missing = tuple(sorted(n for n, v in values.items() if v is None))
        if missing:
            unset[address] = missing
    recorded = {address: record.secrets for address, record in state.endpoints.items()}
    available = None if state.secret_variables is None else frozenset(state.secret_variables)
    keyless = key is None and held and any(r.secrets for r in state.endpoints.values())
    return SecretsSeen(
        recorded=recorded,
        current=current,
        unset=unset,
        serial=state.serial,
        available=available,
        key_missing=keyless,
    )


def fingerprinted(state: StackState, key: bytes | None) -> Callable[[str], bool] | None:
    """A test of whether a word is a secret value the state recorded a fingerprint of (one
    sent before, perhaps rotated away from the environment since): the scrubber blanks it in
    what the service says. None without a key or a fingerprint."""
    recorded = {
        (address, name, print_)
        for address, record in state.endpoints.items()
        for name, print_ in (record.secrets or {}).items()
    }
    if key is None or not recorded:
        return None
    slots = sorted({(address, name) for address, name, _ in recorded})
    prints = {print_ for _, _, print_ in recorded}

    def known(word: str) -> bool:
        return any(fingerprint(key, a, n, word) in prints for a, n in slots)

    return known


def plan_scrubber(
    plan: Plan,
    environ: Mapping[str, str],
    sent: Mapping[str, Secrets],
    known: Callable[[str], bool] | None = None,
) -> Scrubber:
    """The scrubber of an apply: the values it sends, those of every `from_env` variable the
    plan names and of secret-looking environment variables, misplaced secret-looking env
    values, and (`known`) any value the state has a fingerprint of."""
    variables = {v for c in plan.changes for v in (c.secrets or {}).values()}
    values = set(secret_values(environ, variables))
    values |= {v for s in sent.values() for v in s.values.values()}
    values |= {
        v
        for c in plan.changes
        if c.desired is not None
        for k, v in c.desired.env.items()
        if looks_secret(k, v)
    }
    base = Scrubber() if known is None else Scrubber(fingerprinted=known)
    return base.with_values(values)


def secret_variables(
    specs: Sequence[EndpointSpec], environ: Mapping[str, str], *, named: str | None
) -> tuple[str, ...]:
    """The names (never the values) of the secret variables this apply-side run has: each one
    listed in `named` (`PROVISIONER_SECRET_NAMES`, comma- or space-separated: the Action
    passes the keys of its `secrets` input, so a secret added for a spec not merged yet counts)
    and each `from_env` variable of the specs that is set here."""
    names = {n for n in (named or "").replace(",", " ").split() if environ.get(n)}
    for spec in specs:
        for ref in (spec.model.secrets or {}).values():
            if environ.get(ref.from_env):
                names.add(ref.from_env)
    return tuple(sorted(names))


def _applied(
    change: ResourceChange, before: EndpointRecord | None, kept: Config | None = None
) -> Mapping[str, Any]:
    """What the record keeps of the configuration applied: the plan's complete configuration
    (with the service's values where it did not keep what was sent: `kept`), env values that
    look secret masked (the state holds no secret, even a misplaced one)."""
    config = kept or change.desired
    if config is None:
        return before.spec if before is not None else {}
    applied = config_to_json(config)
    applied["env"] = {
        k: SENSITIVE if looks_secret(k, v) else v for k, v in sorted(config.env.items())
    }
    return applied


def _fingerprints(
    change: ResourceChange, sent: Secrets | None, key: bytes, before: EndpointRecord | None
) -> Mapping[str, str] | None:
    if change.secrets is None or sent is None:
        return None if before is None else before.secrets  # secrets not sent: kept as they were
    return {name: fingerprint(key, change.address, name, v) for name, v in sent.values.items()}


def _recreated_for(change: ResourceChange, before: EndpointRecord | None) -> str | None:
    """The spec digest a failed endpoint was re-created for: this change's, when it replaces
    one that failed (accepted, however the new one then fares), else the record's."""
    failed = any(r.code is ReasonCode.FAILED_REPLACE for r in change.reasons)
    if failed and change.desired is not None:
        return ownership.applied_digest(change.desired.tags)
    return None if before is None else before.recreated_for


def next_state(
    state: StackState,
    outcomes: Sequence[Outcome],
    sent: Mapping[str, Secrets],
    key: bytes,
    *,
    at: str,
    by: str,
    answered_at: Mapping[str, str] | None = None,
) -> StackState:
    """`state` after the outcomes: a change that succeeded updates its endpoint's record (a
    delete removes it); a failed one leaves the record as it was, so a secret whose new value
    may not have arrived is sent again by the next apply. A record is applied when the service
    accepted its change (`answered_at`, by address), else `at`."""
    endpoints = dict(state.endpoints)
    for outcome in outcomes:
        change = outcome.change
        if not outcome.ok:
            continue
        if change.action is Action.DELETE:
            endpoints.pop(change.address, None)
            continue
        before = endpoints.get(change.address)
        endpoints[change.address] = EndpointRecord(
            spec=_applied(change, before, outcome.kept),
            secrets=_fingerprints(change, sent.get(change.address), key, before),
            applied_at=(answered_at or {}).get(change.address, at),
            applied_by=by,
            recreated_for=_recreated_for(change, before),
            not_kept=tuple(
                {"path": f.path, "before": f.before, "after": f.after, "sensitive": f.sensitive}
                for f in outcome.not_kept
            ),
        )
    return replace(state, endpoints=endpoints)


def cut_short(
    ledger: Ledger, *, wait: bool, smoke: Mapping[str, SmokeSpec]
) -> tuple[dict[str, Outcome], dict[str, str]]:
    """How far the changes of an interrupted apply got: the outcomes that were final, and the
    changes the service accepted whose outcome had not finished (`wait`: it was to wait for
    readiness; `smoke`: the smoke tests it was to run then), with what was still to come. A
    change sent but not answered is in neither: it is interrupted too."""
    final: dict[str, Outcome] = {}
    unfinished: dict[str, str] = {}
    done = ledger.settled if ledger.settled is not None else ledger.made
    for outcome in list(ledger.outcomes.values()) if done is None else done:
        change, address = outcome.change, outcome.change.address
        row = ledger.waited.get(address)
        if outcome.ok and wait and ledger.settled is None and (row is None or not row.done):
            last = f" (last state: {row.state})" if row is not None else ""
            unfinished[address] = (
                f"accepted, but the apply was interrupted before it was {target(change)}{last}"
            )
        elif outcome.ok and wait and ledger.settled is None and row is not None and row.failed:
            exists = row.state != GONE
            final[address] = Outcome(change, ok=False, error=row.error, accepted=exists)
        elif outcome.ok and wait and tested(outcome, smoke):
            unfinished[address] = "settled, but the apply was interrupted before its smoke test"
        else:
            final[address] = outcome
    return final, unfinished


# How many of a failed deployment's log lines its history record keeps: the last ones, where the
# cause is (the summary printed them all).
HISTORY_LOG_LINES = 5


def history_actions(
    plan: Plan,
    outcomes: Mapping[str, Outcome],
    sent: Mapping[str, Sequence[Action]],
    unfinished: Mapping[str, str] | None = None,
    scrubber: Scrubber | None = None,
) -> tuple[Done, ...]:
    """Each change of the plan and how it ended: ok or failed (with why), refused (a secret
    apply could not read: nothing sent), interrupted when some of it was sent but it did not
    finish (`unfinished`: accepted, with what was still to come), not-started when nothing of
    it was; a failed deployment keeps its last `HISTORY_LOG_LINES` log lines. Each message and
    line goes through `scrubber` (the history's choke point: a service's words are in it)."""
    scrub = scrubber or Scrubber()
    actions = []
    for change in plan.actionable:
        outcome = outcomes.get(change.address)
        message: str | None
        if outcome is not None and outcome.refused:
            result, message = "refused", outcome.error
        elif unfinished and change.address in unfinished:
            result, message = "interrupted", unfinished[change.address]
        elif outcome is not None:
            result, message = ("ok", None) if outcome.ok else ("failed", outcome.error)
        else:
            result, message = ("interrupted" if change.address in sent else "not-started"), None
        logs = (
            outcome.logs[-HISTORY_LOG_LINES:] if outcome is not None and result == "failed" else ()
        )
        actions.append(
            Done(
                address=change.address,
                action=change.action.value,
                outcome=result,
                message=scrub.maybe(message),
                logs=tuple(clip(scrub.outside(line), LOG_LINE_CHARS) for line in logs),
            )
        )
    return tuple(actions)


def history_record(
    plan: Plan,
    actor: Actor,
    actions: tuple[Done, ...],
    *,
    id: str,
    started: str,
    finished: str,
    serial: int | None,
    operation: str | None = None,
    interrupted: bool = False,
) -> HistoryRecord:
    return HistoryRecord(
        id=id,
        operation=operation or ("destroy" if plan.destroy else "apply"),
        started=started,
        finished=finished,
        who=actor.who,
        host=actor.host,
        ci_url=actor.ci_url,
        git_commit=actor.git_commit,
        git_branch=actor.git_branch,
        git_dirty=actor.git_dirty,
        serial=serial,
        actions=actions,
        provisioner_version=__version__,
        interrupted=interrupted,
        schedules_evaluated_at=plan.now,
    )
