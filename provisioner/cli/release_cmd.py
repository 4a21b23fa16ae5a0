"""`provisioner release NAME...`: stop managing endpoints without deleting them (the inverse of
`import`): their ownership, protection and last-applied tags are removed, under the stack's lock,
and the release is recorded in the state's history."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.apply.executor import DEFAULT_PARALLELISM
from provisioner.apply.release import plan_release_stack, release
from provisioner.apply.results import Ledger
from provisioner.apply.workflow import Collaborators
from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option, examples
from provisioner.cli.run import Seconds, confirmer, reporter
from provisioner.cli.session import connect, load, show_diagnostics
from provisioner.plan.model import Action
from provisioner.render.summary import DONE, render_summary
from provisioner.render.text import render_release


@click.command(
    "release",
    epilog=examples("provisioner release old-chat --dir endpoints   # after removing its spec"),
)
@click.argument("names", nargs=-1, required=True)
@dir_option
@api_url_option
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation (CI).")
@click.option(
    "--lock-timeout",
    type=Seconds(minimum=0),
    default=0,
    show_default=True,
    help="Seconds to wait for the stack's state lock when another apply holds it.",
)
@click.pass_obj
def release_(
    context: Context,
    /,
    names: tuple[str, ...],
    spec_dir: Path,
    api_url: str | None,
    auto_approve: bool,
    lock_timeout: float,
) -> None:
    """Stop managing the endpoints NAME (or NAMESPACE/NAME) without deleting them."""
    # Every spec must load: a broken one might be the spec of an endpoint being released. Not
    # the policies: releasing deploys nothing, and an endpoint breaking one may be released.
    session = connect(context, load(spec_dir, check_policies=False), api_url)
    with session.locked("release", timeout=lock_timeout):
        plan = plan_release_stack(session.stack, session.api, session.identity, names)
        show_diagnostics(plan.diagnostics)
        if plan.errors:
            raise SystemExit(1)
        click.echo(render_release(plan), nl=False)
        collaborators = Collaborators(
            Ledger(reporter(context)),
            clock=context.clock,
            sleep=context.sleep,
            confirm=confirmer(context, auto_approve=auto_approve, verb="release"),
        )
        outcomes = release(
            session.api,
            plan,
            collaborators=collaborators,
            recording=session.recording,
            parallelism=DEFAULT_PARALLELISM,
        )
    ok = all(o.ok for o in outcomes)
    released = {**DONE, Action.UPDATE: "released"}  # a release is a tags-only update
    click.echo(render_summary(outcomes, verb="release", words=released), err=not ok, nl=False)
    if not ok:
        raise SystemExit(1)
