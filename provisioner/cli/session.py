"""What plan, apply, destroy, status and import share: load the stack, connect, find out who
the token is, read the live fleet (one list call per namespace), and build the plan.

Every user mistake or API refusal becomes a `Stop` with a message and exit code 1; nothing here
mutates anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from provisioner.cli.context import Context
from provisioner.hub.api import EndpointsApi
from provisioner.hub.client import resolve_connection
from provisioner.hub.errors import ApiError, ConfigurationError
from provisioner.hub.live import read_fleet
from provisioner.hub.models import Fleet, Identity
from provisioner.hub.retry import Retrier
from provisioner.plan.model import Plan
from provisioner.plan.planner import PlanOptions, build_plan
from provisioner.render.diagnostics import render_diagnostics
from provisioner.spec.diagnostics import Diagnostic, Diagnostics
from provisioner.spec.model import EndpointSpec
from provisioner.spec.stack import Stack, load_stack


class Stop(click.ClickException):
    """Ends a command with a message on stderr and exit code 1."""


@dataclass
class Session:
    context: Context
    stack: Stack
    api: EndpointsApi
    identity: Identity

    @property
    def default_namespace(self) -> str:
        return self.stack.default_namespace(self.identity.user)

    def specs(self) -> list[EndpointSpec]:
        return self.stack.resolved_specs(self.identity.user)

    def read(self, *, required: set[str]) -> Fleet:
        try:
            return read_fleet(self.api, required=required, optional=self.identity.namespaces)
        except ApiError as error:
            raise Stop(f"cannot read the live endpoints: {error}") from error

    def plan(self, *, destroy: bool = False, resend_secrets: bool = False) -> tuple[Plan, Fleet]:
        specs = self.specs()
        required = {s.namespace for s in specs if s.namespace} | {self.default_namespace}
        fleet = self.read(required=required)
        options = PlanOptions(
            self.stack.settings.stack, destroy=destroy, resend_secrets=resend_secrets
        )
        return build_plan(specs, fleet, options), fleet


def load(spec_dir: Path) -> Stack:
    stack, diagnostics = load_stack(spec_dir)
    show_diagnostics(diagnostics)
    if diagnostics.has_errors:
        raise SystemExit(1)
    return stack


def show_diagnostics(diagnostics: Diagnostics | list[Diagnostic] | tuple[Diagnostic, ...]) -> None:
    text = render_diagnostics(diagnostics)
    if text:
        click.echo(text, err=True, nl=False)


def connect(context: Context, stack: Stack, api_url: str | None) -> Session:
    try:
        connection = resolve_connection(api_url, dict(context.environ))
    except ConfigurationError as error:
        raise Stop(str(error)) from error

    def on_retry(what: str, error: ApiError, delay: float) -> None:
        click.echo(f"retrying {what} in {delay:.1f}s: {error.message}", err=True)

    if stack.settings.stack_from_directory:
        click.echo(
            f"warning: the stack is named {stack.settings.stack!r} after its directory; set "
            "'stack:' in _settings.yaml to a name unique among the stacks sharing these "
            "namespaces (two stacks with one name manage each other's endpoints)",
            err=True,
        )
    retrier = Retrier(sleep=context.sleep, clock=context.clock, rng=context.rng, on_retry=on_retry)
    api = context.api_factory(connection, retrier)
    try:
        identity = api.identity()
    except ApiError as error:
        raise Stop(f"cannot identify the token's user: {error}") from error
    return Session(context, stack, api, identity)
