"""The workflows the commands are made of, as library functions tests call directly:

- `plan_stack`: fill in namespaces, read what is live in the scope the stack owns, resolve the
  specs' revisions to commits, and diff;
- `load_saved_plan`: read a plan saved by `plan --out` and refuse it if it went stale;
- `apply_plan`: resolve secrets, confirm, execute the changes, wait for them to settle, and
  record in the stack's state what was applied (secret fingerprints, history).

The caller holds the stack's lock around `load_saved_plan`/`plan_stack` and `apply_plan`, so a
plan's staleness is checked and its changes made with no other apply in between.

Everything they need from outside (API, clock, sleep, reporter, environment, confirmation) is
passed in: nothing here reads globals, the environment or a terminal, and nothing is printed.
What stops a run is raised as a `ProvisionerError` carrying diagnostics, chained to its cause.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from provisioner.apply.executor import DEFAULT_PARALLELISM, Executor
from provisioner.apply.guard import foreign, resolve_secrets, stale
from provisioner.apply.recording import (
    Actor,
    cut_short,
    fingerprinted,
    history_actions,
    history_record,
    next_state,
    plan_scrubber,
    secret_variables,
    secrets_seen,
)
from provisioner.apply.results import Ledger, Outcome, Reporter
from provisioner.apply.smoke_tests import smoke_after_apply
from provisioner.apply.waiter import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, Waiter
from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError
from provisioner.hub.live import read_fleet, resolve_commits
from provisioner.hub.models import Commit, Config, Fleet, Identity, Secrets, is_commit
from provisioner.plan.cost_policy import check_cost_policies
from provisioner.plan.document import PlanFormatError, config_from_json, loads
from provisioner.plan.estimate import with_costs
from provisioner.plan.model import FieldChange, Plan, SecretsSeen, SpecDir
from provisioner.plan.planner import PlanOptions, build_plan
from provisioner.plan.safety import (
    guard_mass_deletion,
    hold_unreadable,
    warn_unlisted,
    warn_unseen_secrets,
)
from provisioner.plan.targets import recheck_quota, select
from provisioner.spec.diagnostics import Diagnostic, Mark, ProvisionerError, display_path
from provisioner.spec.model import EndpointSpec
from provisioner.spec.smoke import SmokeSpec
from provisioner.spec.stack import Stack
from provisioner.state.backend import BackendError
from provisioner.state.model import EndpointRecord, StackState, StateFormatError
from provisioner.state.store import StateConflict, StateStore


class Planned(NamedTuple):
    """A plan and the live fleet it was made from (`status` shows both)."""

    plan: Plan
    fleet: Fleet


def _no_confirmation(plan: Plan) -> None:
    """Proceed without asking (CI's --auto-approve, tests)."""


@dataclass(frozen=True)
class Collaborators:
    """What applying needs from outside. `confirm` runs once the plan can run (its secrets are
    all set) and before the first change; it raises a `ProvisionerError` to cancel."""

    reporter: Reporter
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    confirm: Callable[[Plan], None] = _no_confirmation


@dataclass(frozen=True, kw_only=True)
class ApplyOptions:
    parallelism: int = DEFAULT_PARALLELISM
    wait: bool = True
    timeout: float = DEFAULT_TIMEOUT
    interval: float = DEFAULT_INTERVAL
    # What a suggested command repeats to pick this stack and API (`--dir D --api-url U`).
    command_options: str = ""
    # Smoke tests by endpoint address, run once a created, updated, replaced or resumed
    # endpoint is ready (empty: none, as with `--no-smoke`).
    smoke: Mapping[str, SmokeSpec] = field(default_factory=dict)


def identify(api: EndpointsApi) -> Identity:
    """Who the token is: the user (the default namespace) and the namespaces it may use."""
    try:
        return api.identity()
    except ApiError as error:
        raise ProvisionerError.because(f"cannot identify the token's user: {error}") from error


def read_live(api: EndpointsApi, identity: Identity, *, required: Iterable[str]) -> Fleet:
    """The live fleet: `required` namespaces must be readable; every other namespace the token
    can use is scanned too, to find endpoints this stack still owns (one that cannot be listed
    is kept in `Fleet.unlisted`, and the plan warns about it)."""
    try:
        with api.phase("the live read"):
            return read_fleet(api, required=required, optional=identity.namespaces)
    except ApiError as error:
        raise ProvisionerError.because(f"cannot read the live endpoints: {error}") from error


def revisions_to_resolve(
    specs: Sequence[EndpointSpec], fleet: Fleet
) -> tuple[set[tuple[str, str | None]], dict[tuple[str, str | None], Commit]]:
    """What to ask the Hub: each spec's (repository, revision), and the branch or tag name a
    live endpoint of the same repository reports instead of a commit, if the service echoes
    names (the diff compares commits on both sides). And what needs no call: a spec pinned to
    the commit its live endpoint already runs (the common case of a large, settled fleet)."""
    live = fleet.index()
    wanted: set[tuple[str, str | None]] = set()
    deployed: dict[tuple[str, str | None], Commit] = {}
    for spec in specs:
        repository, pinned = spec.model.repository, spec.model.revision
        found = live.get((spec.namespace or "", spec.name))
        if found is None or found.config.repository != repository:
            wanted.add((repository, pinned))
            continue
        revision = found.config.revision
        if pinned is not None and pinned == revision and is_commit(pinned):
            deployed[(repository, pinned)] = Commit(sha=pinned)
            continue
        wanted.add((repository, pinned))
        if revision and not is_commit(revision):
            wanted.add((repository, revision))
    return wanted - deployed.keys(), deployed


def resolve_revisions(api: EndpointsApi, specs: Sequence[EndpointSpec], fleet: Fleet) -> Fleet:
    """`fleet` with the commits of every revision the plan compares (one model info call per
    distinct repository and revision not already running), so what is reviewed is a commit,
    not a moving name."""
    wanted, deployed = revisions_to_resolve(specs, fleet)
    try:
        with api.phase("resolving model revisions"):
            commits = resolve_commits(api, wanted)
    except ApiError as error:
        raise ProvisionerError.because(f"cannot resolve model revisions: {error}") from error
    return replace(fleet, commits={**deployed, **commits})


def read_state(store: StateStore) -> StackState:
    """The stack's state; an unreadable one stops the run (nothing is planned over it)."""
    try:
        return store.read()
    except (BackendError, StateFormatError) as error:
        raise ProvisionerError.because(f"cannot read the state: {error}") from error


def _secrets_seen(
    store: StateStore,
    state: StackState,
    specs: Sequence[EndpointSpec],
    environ: Mapping[str, str],
) -> SecretsSeen:
    try:
        key = store.fingerprint_key(create=False)
    except (BackendError, StateFormatError) as error:
        raise ProvisionerError.because(f"cannot read the state: {error}") from error
    return secrets_seen(specs, state, key, environ)


def recreations(state: StackState) -> dict[str, str]:
    """The spec digest each failed endpoint was last re-created for, by address."""
    return {a: r.recreated_for for a, r in state.endpoints.items() if r.recreated_for}


def unkept_fields(state: StackState) -> dict[str, tuple[FieldChange, ...]]:
    """What the last apply of each endpoint sent and saw the service not keep, by address."""
    return {
        address: tuple(FieldChange(**entry) for entry in record.not_kept)
        for address, record in state.endpoints.items()
        if record.not_kept
    }


def applied_configs(state: StackState) -> dict[str, Config]:
    """The configuration the state recorded as last applied, by address: what a live field is
    compared with to tell a hand change. A record this version cannot read is left out (its
    endpoint is then judged by its tags alone, as without a state)."""
    applied = {}
    for address, record in state.endpoints.items():
        try:
            applied[address] = config_from_json(dict(record.spec))
        except (PlanFormatError, KeyError, TypeError, ValueError, AttributeError):
            continue
    return applied


def plan_stack(
    stack: Stack,
    api: EndpointsApi,
    identity: Identity,
    *,
    destroy: bool = False,
    resend_secrets: bool = False,
    resend_not_kept: bool = False,
    allow_mass_delete: bool = False,
    allow_over_quota: bool = False,
    store: StateStore | None = None,
    environ: Mapping[str, str] | None = None,
    targets: Sequence[str] = (),
    broken: Collection[str] = (),
    command_options: str | None = None,
    now: datetime | None = None,
    scheduled_only: bool = False,
    unattended: bool = False,
    require_secrets: bool = False,
) -> Planned:
    """Compare the stack's specs with what is live (and, given the `store`, the secret values
    in `environ` with the fingerprints of those last applied). Spec problems found only now
    (hardware the namespace does not offer, a protected endpoint to replace) are the plan's
    diagnostics. `targets` (`--target` globs) narrows the plan to the endpoints they name.
    `broken`: spec files that could not be read (`status`, `destroy`): no endpoint is deleted
    unless a spec from another file names it (`safety.hold_unreadable`). A command a
    diagnostic suggests repeats `command_options` (default: `--dir` with the stack's folder)
    so that it works as printed. `now`: the instant `schedule:` is evaluated at (the caller
    reads the clock once). `scheduled_only`: a scheduled run of a stack without `self_heal`
    (`PlanOptions.scheduled_only`). `require_secrets`: a change apply would refuse for a secret
    it cannot find (`safety.warn_unseen_secrets`) is an error, as a CI plan wants."""
    specs = stack.resolved_specs(identity.user)
    default = stack.default_namespace(identity.user)
    state = None if store is None else read_state(store)
    seen = None
    if store is not None and state is not None:
        seen = _secrets_seen(store, state, specs, environ or {})
    fleet = read_live(api, identity, required={s.namespace or default for s in specs} | {default})
    if not destroy:
        fleet = resolve_revisions(api, specs, fleet)
    if command_options is None:
        command_options = f"--dir {shlex.quote(str(stack.root))}"
    options = PlanOptions(
        stack.settings.stack,
        destroy=destroy,
        resend_secrets=resend_secrets,
        command_options=command_options,
        now=now,
        scheduled_only=scheduled_only,
        unattended=unattended,
        resend_not_kept=resend_not_kept,
        allow_over_quota=allow_over_quota,
    )
    where = Mark(stack.settings.file or display_path(stack.root))
    named = {f"{s.namespace}/{s.name}" for s in specs if str(s.source.file) not in broken}
    # Costs from the prices just read: the cost policies need them, and a saved plan keeps them.
    applied = {} if state is None else applied_configs(state)
    recreated = {} if state is None else recreations(state)
    unkept = {} if state is None else unkept_fields(state)
    planned = with_costs(build_plan(specs, fleet, options, seen, applied, recreated, unkept), fleet)
    planned = check_cost_policies(planned, stack.settings.policies, where=where)
    whole = hold_unreadable(planned, named=named, broken=broken)
    plan = guard_mass_deletion(
        recheck_quota(
            whole, select(whole, targets, where=where), specs, fleet, allowed=allow_over_quota
        ),
        where=where,
        max_percent=stack.settings.delete_limit,
        allowed=allow_mass_delete,
        whole=whole,
        command_options=command_options,
    )
    plan = warn_unlisted(plan, fleet.unlisted, where=where)
    if seen is not None and not destroy:
        marks = {
            (f"{s.namespace}/{s.name}", name): s.source.mark("model", "secrets", name, "from_env")
            for s in specs
            for name in s.model.secrets or {}
        }
        plan = warn_unseen_secrets(
            plan,
            seen,
            where=where,
            command_options=command_options,
            marks=marks,
            require=require_secrets,
        )
    spec_dir = SpecDir(str(stack.root), str(stack.root.absolute()))
    return Planned(replace(plan, spec_dir=spec_dir), fleet)


def _plan_text(path: Path) -> str:
    """The saved plan's text; a file that is not UTF-8 is an error at its first bad byte."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ProvisionerError.because(
            f"cannot read the plan: {error.strerror}", Mark(path)
        ) from error
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line, col = before.count(b"\n") + 1, error.start - (before.rfind(b"\n") + 1) + 1
        raise ProvisionerError.because(
            f"not a provisioner plan: the file is not UTF-8 text (byte 0x{raw[error.start]:02x})",
            Mark(path, line, col),
        ) from error


def read_plan_file(path: Path) -> Plan:
    """The plan saved at `path` (its checksum checked), not yet compared with any stack."""
    try:
        return loads(_plan_text(path))
    except PlanFormatError as error:
        raise ProvisionerError.because(str(error), Mark(path)) from error


def saved_spec_dir(path: Path) -> Path | None:
    """The folder of the stack the plan at `path` was made from, for `apply PLAN` without
    `--dir`: where it was, else (the checkout moved, as between two CI jobs) the folder as it
    was given, from here. None: the plan does not say (saved before it recorded it)."""
    recorded = read_plan_file(path).spec_dir
    if recorded is None:
        return None
    for folder in (Path(recorded.absolute), Path(recorded.given)):
        if folder.is_dir():
            return folder
    raise ProvisionerError.because(
        f"the plan was made from the stack in {recorded.given} ({recorded.absolute}), which is "
        "not here: pass --dir with that stack's folder",
        Mark(path),
    )


def _read_plan_file(path: Path, stack: Stack) -> Plan:
    mark = Mark(path)
    saved = read_plan_file(path)
    if saved.stack != stack.settings.stack:
        raise ProvisionerError.because(
            f"this is a plan for stack {saved.stack!r}, but {stack.root} is stack "
            f"{stack.settings.stack!r}",
            mark,
        )
    if saved.errors:
        raise ProvisionerError.because("the plan has errors; make a new plan", mark)
    return saved


def _state_moved(saved: Plan, store: StateStore | None, path: Path) -> list[Diagnostic]:
    """The stack's state went on since the plan was made: another apply ran in between."""
    if store is None:
        return []
    serial = read_state(store).serial
    if saved.state_serial == serial:
        return []
    made = "without a state" if saved.state_serial is None else f"at serial {saved.state_serial}"
    return [
        Diagnostic(
            Mark(path),
            f"the plan was made {made}, but the stack's state at {store.location} is at serial "
            f"{serial}: another apply ran since, and this plan may undo it",
        )
    ]


def load_saved_plan(
    path: Path,
    stack: Stack,
    api: EndpointsApi,
    identity: Identity,
    store: StateStore | None = None,
    *,
    plan_command: str = "provisioner plan",
) -> Plan:
    """The plan saved at `path`, exactly, if nothing it would change moved on since it was made
    (and, given the `store`, no other apply ran since); otherwise a `ProvisionerError` naming
    every endpoint that did, whose note suggests `plan_command` (the CLI's, with the options
    that pick this stack and API) to make a new plan."""
    saved = _read_plan_file(path, stack)
    moved = _state_moved(saved, store, path)
    fleet = read_live(api, identity, required={c.namespace for c in saved.actionable})
    problems = [*moved, *foreign(saved, fleet), *stale(saved, fleet)]
    if problems:
        raise ProvisionerError(
            *problems,
            note=f"{path} is stale; nothing was changed. "
            f"Make a new plan with `{plan_command}` and review it.",
        )
    return saved


def _secrets(plan: Plan, environ: Mapping[str, str]) -> tuple[dict[str, Secrets], list[Outcome]]:
    """The secret values of each change, and a refusal (an outcome, nothing sent) for each
    change whose secrets cannot all be read here: only the endpoints that need a missing
    value are held back, so one secret not yet added does not stop the stack's pauses,
    resumes and other changes."""
    secrets, missing = resolve_secrets(plan, environ)
    refused: dict[str, list[str]] = {}
    for problem in missing:
        address, _, why = problem.message.partition(": ")
        refused.setdefault(address, []).append(why)
    outcomes = [
        Outcome(
            change,
            ok=False,
            error="not applied (nothing sent): " + "; ".join(refused[change.address]),
            refused=True,
        )
        for change in plan.actionable
        if change.address in refused
    ]
    return secrets, outcomes


def _without(plan: Plan, refused: Sequence[Outcome]) -> Plan:
    """`plan` without the refused changes (left as they are live: not part of this run)."""
    if not refused:
        return plan
    held = {o.change.address for o in refused}
    return replace(plan, changes=tuple(c for c in plan.changes if c.address not in held))


STATE_WRITE_ATTEMPTS = 3
# The variable the Action sets to the keys of its `secrets` input (names, never values).
SECRET_NAMES_VARIABLE = "PROVISIONER_SECRET_NAMES"


def apply_side_secrets(
    specs: Sequence[EndpointSpec], environ: Mapping[str, str]
) -> tuple[str, ...]:
    """The names of the secret variables set in `environ` (`recording.secret_variables`)."""
    return secret_variables(specs, environ, named=environ.get(SECRET_NAMES_VARIABLE))


def record_secret_variables(
    store: StateStore, specs: Sequence[EndpointSpec], environ: Mapping[str, str]
) -> tuple[str, ...] | None:
    """Record in the state the names of the secret variables this apply-side run has
    (`recording.secret_variables`), so that a plan made without values (a pull request's)
    can tell whether apply will find a secret. The caller holds the lock. Writes only when
    the names differ from those recorded (a write moves the serial on, making saved plans
    stale); returns the names written, or None when nothing was."""
    names = apply_side_secrets(specs, environ)
    for attempt in range(1, STATE_WRITE_ATTEMPTS + 1):
        try:
            state = store.read()
            # No names where none were recorded: nothing to tell (and no write, which would
            # make every saved plan of a stack without secrets stale).
            if state.secret_variables == names or (state.secret_variables is None and not names):
                return None
            store.write(replace(state, secret_variables=names))
            return names
        except StateConflict:
            if attempt == STATE_WRITE_ATTEMPTS:
                raise
        except (BackendError, StateFormatError) as error:
            raise ProvisionerError.because(
                f"cannot record the secret names in the state at {store.location}: {error}"
            ) from error
    return None


@dataclass(frozen=True)
class Recording:
    """Where and as whom an apply records what it did: the store (whose lock the caller
    holds) and the actor, for the state's records and the history."""

    store: StateStore
    actor: Actor
    # The names of the secret variables this run has (`apply_side_secrets`), recorded in the
    # state it writes; None: leave those recorded as they are.
    secret_variables: tuple[str, ...] | None = None
    # The id of the state lock this apply holds: found broken when the state is written (a
    # forced unlock while it ran), its records are merged by when each change was accepted.
    lock_id: str | None = None


def _record(
    recording: Recording,
    plan: Plan,
    ledger: Ledger,
    outcomes: Sequence[Outcome] | None,
    secrets: Mapping[str, Secrets],
    start: tuple[str, Mapping[str, EndpointRecord] | None],
    options: ApplyOptions,
    refused: Sequence[Outcome] = (),
) -> None:
    """Write the state (over the version read: `StateConflict` if someone else wrote it) and
    append the history record. `outcomes` is None when the apply was interrupted.

    The records follow what the service accepted (the executor's outcomes): secrets sent to an
    endpoint that then failed to start are on it all the same. The history tells how each
    change ended, waiting included: of an interrupted apply, a change accepted but not yet
    settled (or not yet smoke-tested) is interrupted, and so is the record.

    The history record is appended whatever happened to the state (and the state written
    whatever happened to its key): `NotRecorded` says which of them failed."""
    store = recording.store
    started, base = start
    failed: list[tuple[str, Exception]] = []
    serial = None
    try:
        serial = _write_state(recording, ledger, secrets, base)
    except (BackendError, StateFormatError) as error:
        failed.append(("the state", error))
    if outcomes is None:
        final, unfinished = cut_short(ledger, wait=options.wait, smoke=options.smoke)
    else:
        final, unfinished = {o.change.address: o for o in outcomes}, {}
    final.update({o.change.address: o for o in refused})
    record = history_record(
        plan,
        recording.actor,
        history_actions(plan, final, ledger.sent, unfinished, ledger.scrubber),
        id=store.new_id(),
        started=started,
        finished=store.now(),
        serial=serial,
        interrupted=outcomes is None,
    )
    try:
        store.append(record)
    except (BackendError, StateFormatError) as error:
        failed.append(("the history record", error))
    if failed:
        raise NotRecorded(store.location, failed)


class NotRecorded(Exception):
    """What of an apply's records could not be written, each with why; the changes were made."""

    def __init__(self, location: str, failed: Sequence[tuple[str, Exception]]) -> None:
        what = " and ".join(f"{name} could not be written ({error})" for name, error in failed)
        super().__init__(f"at {location}, {what}")
        self.parts = tuple(name for name, _ in failed)


def _write_state(
    recording: Recording,
    ledger: Ledger,
    secrets: Mapping[str, Secrets],
    base: Mapping[str, EndpointRecord] | None,
) -> int:
    """Merge this apply's records into the state; the serial written."""
    store = recording.store
    key = store.fingerprint_key(create=True)
    assert key is not None  # made just now if it was missing
    broken = recording.lock_id is not None and not store.holds(recording.lock_id)
    if broken:
        ledger.warn(
            "the state lock this apply held was broken while it ran (`provisioner state "
            "unlock`): its records are merged with any other apply's by when the service "
            "accepted each change"
        )
    # Each record is one endpoint's, so this apply's records are merged into the state as it
    # is now: a writer in between (a forced unlock) keeps its records, and a conditional write
    # that loses to one is merged again, never written over it.
    for attempt in range(1, STATE_WRITE_ATTEMPTS + 1):
        state = store.read()
        accepted = list(ledger.outcomes.values())
        if broken:
            accepted, later = _not_overtaken(state, accepted, ledger.answered_at, base)
            if attempt == 1:
                for address, record in later:
                    ledger.warn(
                        f"{address}: the state keeps the record of another apply "
                        f"({record.applied_by}, at {record.applied_at}), which changed it "
                        "after this one did; run `provisioner plan` to see how it stands now"
                    )
        if recording.secret_variables is not None and (
            recording.secret_variables or state.secret_variables is not None
        ):
            state = replace(state, secret_variables=recording.secret_variables)
        try:
            written = store.write(
                next_state(
                    state,
                    accepted,
                    secrets,
                    key,
                    at=store.now(),
                    by=recording.actor.who,
                    answered_at=ledger.answered_at,
                )
            )
            return written.serial
        except StateConflict:
            if attempt == STATE_WRITE_ATTEMPTS:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _not_overtaken(
    state: StackState,
    outcomes: Sequence[Outcome],
    answered_at: Mapping[str, str],
    base: Mapping[str, EndpointRecord] | None,
) -> tuple[list[Outcome], list[tuple[str, EndpointRecord]]]:
    """After a broken lock: the outcomes whose record this apply may write, and the records of
    another apply that changed the same endpoint later than this one did (written since this
    apply started, and accepted after its change was), which are kept instead."""
    mine: list[Outcome] = []
    later: list[tuple[str, EndpointRecord]] = []
    for outcome in outcomes:
        address = outcome.change.address
        record = state.endpoints.get(address)
        answered = answered_at.get(address)
        if (
            record is not None
            and answered is not None
            and (base is None or base.get(address) != record)
            and record.applied_at > answered
        ):
            later.append((address, record))
            continue
        mine.append(outcome)
    return mine, later


def apply_plan(
    api: EndpointsApi,
    plan: Plan,
    environ: Mapping[str, str],
    *,
    collaborators: Collaborators,
    options: ApplyOptions | None = None,
    recording: Recording | None = None,
) -> list[Outcome]:
    """Run the plan's changes and (unless told not to) wait until each endpoint is running,
    paused or gone. One outcome per change; a failed change does not stop the others. A change
    whose secret cannot be read here is refused (its outcome says which secret and variable,
    never a value) and the others go ahead; the caller checked the whole plan against a
    reviewed digest before, so what runs is a part of what was reviewed. Given a
    `recording`, what was applied is recorded even when the run is interrupted."""
    options = options or ApplyOptions()
    if not plan.has_changes:
        return []
    secrets, refused = _secrets(plan, environ)
    collaborators.confirm(plan)
    for outcome in refused:
        collaborators.reporter.finished(outcome)
    runnable = _without(plan, refused)
    # The state as this apply starts, read once: the fingerprints a scrubber blanks by, and
    # the records (after a broken lock, one that differs when the state is written was written
    # by another apply in between).
    state = None if recording is None else _state_now(recording.store)
    known = None if recording is None else _known(recording.store, state)
    ledger = Ledger(
        collaborators.reporter,
        plan_scrubber(plan, environ, secrets, known),
        now=None if recording is None else recording.store.now,
    )
    if recording is None:
        return [
            *refused,
            *ledger.clean(_run(api, runnable, secrets, ledger, collaborators, options)),
        ]
    started = recording.store.now()
    base = state.endpoints if state is not None and recording.lock_id is not None else None
    outcomes = None
    try:
        ran = _run(api, runnable, secrets, ledger, collaborators, options)
        outcomes = [*refused, *ledger.clean(ran)]
    finally:
        try:
            _record(recording, plan, ledger, outcomes, secrets, (started, base), options, refused)
        except NotRecorded as error:
            lost = (
                "; the next apply sends again any secret whose new value was not recorded"
                if "the state" in error.parts
                else ""
            )
            failure = ProvisionerError.because(
                f"the changes were made as reported, but {error}{lost}"
            )
            # Interrupted: the interruption goes on (exit 130); the next plan reads the state as
            # it was, so at worst a secret is sent again.
            if outcomes is not None:
                raise failure from error
    return outcomes


def known_secrets(store: StateStore) -> Callable[[str], bool] | None:
    """Whether a word is a value the state has a fingerprint of (`recording.fingerprinted`);
    None when the state cannot tell (none yet, or unreadable: `_record` reports that)."""
    return _known(store, _state_now(store))


def _state_now(store: StateStore) -> StackState | None:
    """The state as it is now; None when it cannot be read (`_record` reports that)."""
    try:
        return store.read()
    except (BackendError, StateFormatError):
        return None


def _known(store: StateStore, state: StackState | None) -> Callable[[str], bool] | None:
    if state is None:
        return None
    try:
        return fingerprinted(state, store.fingerprint_key(create=False))
    except (BackendError, StateFormatError):
        return None


def _run(
    api: EndpointsApi,
    plan: Plan,
    secrets: Mapping[str, Secrets],
    ledger: Ledger,
    collaborators: Collaborators,
    options: ApplyOptions,
) -> list[Outcome]:
    """Make the changes, wait for them, smoke-test them; `ledger` learns each stage's outcomes
    as it ends, so that an interrupted apply's history says which changes had not finished."""
    clock, sleep = collaborators.clock, collaborators.sleep
    executor = Executor(
        api,
        plan.stack,
        secrets,
        ledger,
        sleep=sleep,
        clock=clock,
        parallelism=options.parallelism,
    )
    outcomes = executor.run(plan)
    ledger.made = outcomes
    scrubber = ledger.scrubber
    if not options.wait:
        return smoke_after_apply(
            api,
            outcomes,
            options.smoke,
            secrets=secrets,
            clock=clock,
            sleep=sleep,
            waited=False,
            scrubber=scrubber,
        )
    waiter = Waiter(
        api,
        ledger,
        sleep=sleep,
        clock=clock,
        timeout=options.timeout,
        interval=options.interval,
        command_options=options.command_options,
    )
    ledger.settled = waiter.wait(outcomes)
    return smoke_after_apply(
        api,
        ledger.settled,
        options.smoke,
        secrets=secrets,
        clock=clock,
        sleep=sleep,
        scrubber=scrubber,
    )
