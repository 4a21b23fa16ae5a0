"""`provisioner state show|unlock|record-secrets` and `provisioner history`: the stack's state
backend, read, its lock released, or the names of the apply side's secrets recorded. None of
them needs a token: they never call the API."""

from __future__ import annotations

import json
from pathlib import Path

import click

from provisioner.apply.workflow import record_secret_variables
from provisioner.cli.actor import actor
from provisioner.cli.context import Context
from provisioner.cli.options import dir_option, examples
from provisioner.cli.session import held_by, open_store
from provisioner.cli.specs import load_specs
from provisioner.render.history import render_history, render_state
from provisioner.spec.diagnostics import ProvisionerError
from provisioner.state.backend import BackendError, LockHeld
from provisioner.state.model import StateFormatError
from provisioner.state.store import StateStore


def _store(context: Context, spec_dir: Path) -> StateStore:
    # Only the settings matter here: a spec with errors must not stand between a team and its
    # stuck lock or its history.
    stack, _ = load_specs(spec_dir)
    return open_store(context, stack)


def _failed(store: StateStore, error: Exception) -> ProvisionerError:
    return ProvisionerError.because(f"the state at {store.location}: {error}")


@click.group()
def state() -> None:
    """The stack's state: secret fingerprints, what was last applied, the lock."""


@state.command(epilog=examples("provisioner state show --dir endpoints"))
@dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the state document as it is stored.")
@click.pass_obj
def show(context: Context, spec_dir: Path, as_json: bool) -> None:
    """What the state holds for each endpoint, and who holds the lock (if anyone)."""
    store = _store(context, spec_dir)
    try:
        current, holder = store.read(), store.backend.holder()
    except (BackendError, StateFormatError) as error:
        raise _failed(store, error) from error
    # State and history hold the service's words (failure messages): scrubbed as they are shown.
    scrubber = context.scrubber()
    if as_json:
        click.echo(scrubber.outside_json(current.dumps().decode()), nl=False)
        return
    click.echo(scrubber.outside(render_state(current, location=store.location)), nl=False)
    click.echo("Lock: " + ("free" if holder is None else held_by(holder)))


@state.command(
    epilog=examples(
        "provisioner state unlock 6fa1aa43431144b9 --dir endpoints   # the ID the error printed"
    )
)
@click.argument("lock_id")
@dir_option
@click.pass_obj
def unlock(context: Context, lock_id: str, spec_dir: Path) -> None:
    """Release the lock LOCK_ID left by a run that was killed (the ID is the confirmation: it
    is printed by the run that found the lock held). Releasing the lock of a run that is still
    going lets two applies interleave: check that it is gone first."""
    store = _store(context, spec_dir)
    try:
        released = store.unlock(lock_id)
    except BackendError as error:
        raise _failed(store, error) from error
    click.echo(f"Released the state lock ({held_by(released)}).")


@state.command(
    "record-secrets",
    epilog=examples(
        "provisioner state record-secrets --dir endpoints   # the apply side, its secrets set"
    ),
)
@dir_option
@click.option(
    "--lock-timeout",
    type=click.FloatRange(0, 7 * 24 * 3600),
    default=0,
    show_default=True,
    help="Seconds to wait for the stack's state lock when an apply holds it.",
)
@click.pass_obj
def record_secrets(context: Context, spec_dir: Path, lock_timeout: float) -> None:
    """Record in the state the NAMES (never values) of the secret variables set here: those
    listed in PROVISIONER_SECRET_NAMES and the specs' `from_env` variables. Run it where apply
    runs, after adding a secret there: a pull request's plan, which has no secret values,
    then knows apply will find it. Every apply records them too; nothing is applied here."""
    stack, _ = load_specs(spec_dir)
    store = open_store(context, stack)
    me = actor(context.environ, root=stack.root, host=context.hostname(), pid=context.pid())
    info = store.lock_info("record-secrets", who=me.who, host=me.host, pid=me.pid, ci_url=me.ci_url)
    try:
        with store.locked(info, timeout=lock_timeout, clock=context.clock, sleep=context.sleep):
            written = record_secret_variables(store, stack.specs, context.environ)
    except LockHeld as error:
        raise ProvisionerError.because(
            f"the state lock is held ({held_by(error.holder)})"
        ) from error
    except BackendError as error:
        raise _failed(store, error) from error
    if written is None:
        click.echo("The state already records these secret names; nothing was written.")
    else:
        shown = ", ".join(written) or "none"
        click.echo(f"Recorded the names of the secrets set here in the state: {shown}.")


@click.command(
    epilog=examples("provisioner history --dir endpoints", "provisioner history --limit 5 --json")
)
@dir_option
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON document per line, newest first.")
@click.pass_obj
def history(context: Context, spec_dir: Path, limit: int, as_json: bool) -> None:
    """Who applied what and when: the newest applies and destroys of the stack first."""
    store = _store(context, spec_dir)
    try:
        records, unreadable = store.readable_history(limit)
    except (BackendError, StateFormatError) as error:
        raise _failed(store, error) from error
    for problem in unreadable:
        click.echo(f"warning: {problem}; the other records are shown", err=True)
    scrubber = context.scrubber()
    if as_json:
        for record in records:
            line = json.dumps(json.loads(record.dumps()), sort_keys=True)
            click.echo(scrubber.outside_json(line))
        return
    click.echo(scrubber.outside(render_history(records, location=store.location)), nl=False)
