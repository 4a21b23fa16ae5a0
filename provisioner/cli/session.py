"""What plan, apply, destroy, status and import share: load the stack, connect to the API (the
CLI's retry messages, the stack-name warning) and find out who the token is.

The workflows themselves are library functions (`provisioner.apply.workflow`); what stops a run
is a `ProvisionerError`, rendered once by `cli.main`. Nothing here changes an endpoint; the state
lock is taken here (`Session.locked`), and a held lock is reported with its holder and the
command that releases it.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from provisioner.apply.recording import Actor
from provisioner.apply.workflow import (
    Planned,
    Recording,
    apply_side_secrets,
    identify,
    known_secrets,
    plan_stack,
)
from provisioner.cli.actor import actor
from provisioner.cli.context import Context
from provisioner.cli.specs import load_specs
from provisioner.hub.api import EndpointsApi
from provisioner.hub.client import DEFAULT_API_URL, resolve_connection
from provisioner.hub.errors import ApiError
from provisioner.hub.models import Fleet, Identity
from provisioner.hub.retry import Retrier
from provisioner.plan.model import Plan
from provisioner.render.diagnostics import render_diagnostics
from provisioner.spec.backend import ENVIRONMENT, BackendConfig, parse_url
from provisioner.spec.diagnostics import (
    Diagnostic,
    Diagnostics,
    Mark,
    ProvisionerError,
    Severity,
    display_path,
)
from provisioner.spec.scrub import Scrubber, secret_values
from provisioner.spec.stack import Stack
from provisioner.state.backend import BackendError, LockHeld, LockInfo, LockNotReleased
from provisioner.state.open import open_backend
from provisioner.state.store import StateStore


@dataclass(eq=False)
class Session:
    context: Context
    stack: Stack
    api: EndpointsApi
    identity: Identity
    # The API's base URL when it is not the real service's: a suggested command repeats it.
    api_url: str | None = None
    # The instant schedules are evaluated at, read once (`schedule_now`) when connecting.
    now: datetime | None = None
    # The id of the state lock this session holds (`locked`), if any.
    lock_id: str | None = None
    # The live read of the last `checked_plan`: what the endpoints were before an apply.
    fleet: Fleet | None = None

    @property
    def selector(self) -> str:
        """`--dir D [--api-url U]`: the options that pick this stack and this API, quoted for
        a shell, so a suggested command works as printed."""
        url = f" --api-url {shlex.quote(self.api_url)}" if self.api_url else ""
        return f"--dir {shlex.quote(str(self.stack.root))}{url}"

    def scrubber(self) -> Scrubber:
        """For what the service says outside an apply (smoke answers): the run's secret values
        and any value the state has a fingerprint of (a previous one)."""
        known = known_secrets(self.store)
        base = Scrubber() if known is None else Scrubber(fingerprinted=known)
        return base.with_values(self.context.scrubber().values)

    def command(self, verb: str) -> str:
        """`provisioner VERB` with the options that pick this stack and this API."""
        return f"provisioner {verb} {self.selector}"

    @cached_property
    def store(self) -> StateStore:
        return open_store(self.context, self.stack)

    @cached_property
    def actor(self) -> Actor:
        context = self.context
        return actor(
            context.environ, root=self.stack.root, host=context.hostname(), pid=context.pid()
        )

    def planned(self, **planning: Any) -> Planned:
        """`plan_stack` for this stack and API, comparing secrets with this state and this
        environment, its hints repeating the options that chose them; `planning` is the rest
        of `plan_stack`'s options (targets, broken files, the flags of plan and apply)."""
        now = self.now if self.now is not None else schedule_now(self.context)
        return plan_stack(
            self.stack,
            self.api,
            self.identity,
            store=self.store,
            environ=self.context.environ,
            command_options=self.selector,
            now=now,
            **planning,
        )

    def checked_plan(self, **planning: Any) -> Plan:
        """The plan, its diagnostics shown; exit 1 (nothing changed) when it has errors."""
        plan, self.fleet = self.planned(**planning)
        show_diagnostics(plan.diagnostics)
        if plan.errors:
            raise SystemExit(1)
        return plan

    @property
    def recording(self) -> Recording:
        # An apply records the names of the secrets it has in the same write as its changes.
        specs = self.stack.resolved_specs(self.identity.user)
        names = apply_side_secrets(specs, self.context.environ)
        return Recording(self.store, self.actor, names, lock_id=self.lock_id)

    @contextmanager
    def locked(self, operation: str, *, timeout: float) -> Iterator[LockInfo]:
        """Hold the stack's state lock for the block, waiting up to `timeout` seconds."""
        me = self.actor
        info = self.store.lock_info(
            operation, who=me.who, host=me.host, pid=me.pid, ci_url=me.ci_url
        )

        def waiting(holder: LockInfo | None, delay: float) -> None:
            click.echo(f"waiting {delay:.0f}s for the state lock ({held_by(holder)})", err=True)

        held = ExitStack()
        try:
            held.enter_context(
                self.store.locked(
                    info,
                    timeout=timeout,
                    clock=self.context.clock,
                    sleep=self.context.sleep,
                    on_wait=waiting,
                )
            )
        except LockHeld as error:
            raise ProvisionerError.because(self.lock_message(error, timeout)) from error
        except BackendError as error:
            raise ProvisionerError.because(
                f"cannot take the state lock at {self.store.location}: {error}"
            ) from error
        self.lock_id = info.id
        try:
            yield info
        finally:
            self.lock_id = None
            try:
                held.close()
            except LockNotReleased as error:
                raise ProvisionerError.because(
                    f"the {operation} finished as reported above, but its state lock at "
                    f"{self.store.location} could not be released ({error.cause}): it stays "
                    f"until released with: {self.unlock_command(error.lock_id)}"
                ) from error

    def unlock_command(self, lock_id: str) -> str:
        """`provisioner state unlock ID --dir D`, run as printed: with the backend variable
        when that is where this run's backend came from."""
        command = f"provisioner state unlock {lock_id} --dir {shlex.quote(str(self.stack.root))}"
        backend = self.context.environ.get(ENVIRONMENT, "").strip()
        return f"{ENVIRONMENT}={shlex.quote(backend)} {command}" if backend else command

    def lock_message(self, error: LockHeld, timeout: float) -> str:
        waited = f" (waited {timeout:g}s)" if timeout else ""
        holder = error.holder
        # `state` never calls the API: no --api-url (it would be an unknown option there).
        lock_id = holder.id if holder is not None else "LOCK_ID"
        unlock = self.unlock_command(lock_id)
        return (
            f"the state of stack {self.stack.settings.stack!r} at {error.location} is locked"
            f"{waited}: {held_by(holder)}. Nothing was changed. Wait for that run to finish "
            f"(--lock-timeout SECONDS waits for it), or, if it was killed, release its lock "
            f"with: {unlock}"
        )


def held_by(holder: LockInfo | None) -> str:
    """`held by alice on host h (pid 42) for apply since T, CI run URL, lock ID x`."""
    if holder is None:
        return "its holder's record cannot be read"
    ci = f", CI run {holder.ci_url}" if holder.ci_url else ""
    return (
        f"held by {holder.who} on host {holder.host} (pid {holder.pid}) for "
        f"{holder.operation} since {holder.created}{ci}, lock ID {holder.id}"
    )


NOW_VARIABLE = "PROVISIONER_NOW"


def schedule_now(context: Context) -> datetime:
    """`PROVISIONER_NOW` (ISO 8601 with an offset or `Z`: a fixed clock for schedules, in
    tests, demos and reruns), else the context's clock. A value without an offset is refused:
    which zone it means would be a guess."""
    text = context.environ.get(NOW_VARIABLE, "").strip()
    if not text:
        return context.now()
    try:
        found = datetime.fromisoformat(text)
    except ValueError as error:
        raise ProvisionerError.because(
            f"{NOW_VARIABLE}: {text!r} is not an ISO 8601 date and time "
            "(e.g. 2027-03-26T19:00:00Z or 2027-03-26T20:00:00+01:00)"
        ) from error
    if found.tzinfo is None:
        raise ProvisionerError.because(
            f"{NOW_VARIABLE}: {text!r} has no UTC offset; add 'Z' or one such as '+01:00'"
        )
    return found.astimezone(UTC)


def backend_config(stack: Stack, environ: dict[str, str] | None) -> BackendConfig:
    """The settings' backend, unless PROVISIONER_BACKEND names another."""
    text = (environ or {}).get(ENVIRONMENT)
    if not text:
        return stack.settings.backend
    try:
        config = parse_url(text)
    except ValueError as error:
        raise ProvisionerError.because(f"{ENVIRONMENT}: {error}") from error
    if config.path is not None:  # a folder in a variable is relative to where the command runs
        config = replace(config, path=str(Path(config.path).absolute()))
    return config


def open_store(context: Context, stack: Stack) -> StateStore:
    config = backend_config(stack, dict(context.environ))
    try:
        backend = open_backend(config, stack.settings.stack, spec_root=stack.root)
    except BackendError as error:
        raise ProvisionerError.because(
            f"cannot open the state backend {config.describe()}: {error}"
        ) from error
    return StateStore(backend, stack.settings.stack, now=context.now)


def load(spec_dir: Path, *, check_policies: bool = True) -> Stack:
    stack, diagnostics = load_specs(spec_dir, check_policies=check_policies)
    show_diagnostics(diagnostics)
    if diagnostics.has_errors:
        raise SystemExit(1)
    return stack


def load_partial(spec_dir: Path, *, warn: bool) -> tuple[Stack, tuple[str, ...]]:
    """The stack, and the spec files that cannot be read, for `status` and `destroy`, which
    still run when one spec is broken (they act on what is live; `plan_stack` keeps every
    endpoint a broken file may declare). Their diagnostics are shown (errors as warnings when
    `warn`). What they cannot do without (the directory, `_settings.yaml`, a `_defaults.yaml`,
    which may set `protect:` for many specs) still stops the run. The stack's policies are not
    checked: these commands deploy nothing, and an endpoint that breaks one must stay visible
    and deletable."""
    stack, diagnostics = load_specs(spec_dir, check_policies=False)
    root = str(display_path(stack.root))
    broken: set[str] = set()
    fatal = []
    for diagnostic in diagnostics.sorted():
        if diagnostic.severity is not Severity.ERROR:
            continue
        subject = diagnostic.subject
        if (
            not isinstance(subject, Mark)
            or subject.file.name.startswith("_")
            or str(subject.file) == root
        ):
            fatal.append(diagnostic)
        else:
            broken.add(str(subject.file))
    if fatal:
        show_diagnostics(diagnostics)
        raise SystemExit(1)
    items = diagnostics.sorted()
    show_diagnostics([replace(d, severity=Severity.WARNING) for d in items] if warn else items)
    return stack, tuple(sorted(broken))


def show_diagnostics(diagnostics: Diagnostics | list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
    text = render_diagnostics(diagnostics)
    if text:
        click.echo(text, err=True, nl=False)


def _warn_directory_name(stack: Stack) -> None:
    if stack.settings.stack_from_directory:
        click.echo(
            f"warning: the stack is named {stack.settings.stack!r} after its directory; set "
            "'stack:' in _settings.yaml to a name unique among the stacks sharing these "
            "namespaces (two stacks with one name manage each other's endpoints)",
            err=True,
        )


def connect(context: Context, stack: Stack, api_url: str | None) -> Session:
    """The API client for `api_url` (else the environment's), who its token is, and the instant
    schedules are evaluated at."""
    connection = resolve_connection(api_url, dict(context.environ))
    now = schedule_now(context)  # a malformed PROVISIONER_NOW stops here, before any API call

    def on_retry(what: str, error: ApiError, delay: float) -> None:
        # The error names the call too ("create acme/x: 429 ..."): said once is enough.
        said = context.scrubber().outside(error.message.removeprefix(f"{what}: "))
        click.echo(f"retrying {what} in {delay:.1f}s: {said}", err=True)

    _warn_directory_name(stack)
    variables = {ref.from_env for s in stack.specs for ref in (s.model.secrets or {}).values()}
    context.secrets |= secret_values(context.environ, variables)
    retrier = Retrier(sleep=context.sleep, clock=context.clock, rng=context.rng, on_retry=on_retry)
    api = context.api_factory(connection, retrier)
    # Not the real service (a flag, or PROVISIONER_API_URL): suggested commands must say so.
    chosen = None if connection.api_url == DEFAULT_API_URL else connection.api_url
    return Session(context, stack, api, identify(api), chosen, now=now)
