"""What plan, apply, destroy, status and import share: load the stack, connect to the API (the
CLI's retry messages, the stack-name warning) and find out who the token is.

The workflows themselves are library functions (`provisioner.apply.workflow`); what stops a run
is a `ProvisionerError`, rendered once by `cli.main`. Nothing here mutates anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from provisioner.apply.workflow import identify
from provisioner.cli.context import Context
from provisioner.hub.api import EndpointsApi
from provisioner.hub.client import DEFAULT_API_URL, resolve_connection
from provisioner.hub.errors import ApiError
from provisioner.hub.models import Identity
from provisioner.hub.retry import Retrier
from provisioner.render.diagnostics import render_diagnostics
from provisioner.spec.diagnostics import Diagnostic, Diagnostics
from provisioner.spec.stack import Stack, load_stack


@dataclass
class Session:
    context: Context
    stack: Stack
    api: EndpointsApi
    identity: Identity
    # The API's base URL when it is not the real service's: a suggested command repeats it.
    api_url: str | None = None

    def command(self, verb: str) -> str:
        """`provisioner VERB` with the options that pick this stack and this API."""
        url = f" --api-url {self.api_url}" if self.api_url else ""
        return f"provisioner {verb} --dir {self.stack.root}{url}"


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


def _warn_directory_name(stack: Stack) -> None:
    if stack.settings.stack_from_directory:
        click.echo(
            f"warning: the stack is named {stack.settings.stack!r} after its directory; set "
            "'stack:' in _settings.yaml to a name unique among the stacks sharing these "
            "namespaces (two stacks with one name manage each other's endpoints)",
            err=True,
        )


def connect(context: Context, stack: Stack, api_url: str | None) -> Session:
    """The API client for `api_url` (else the environment's), and who its token is."""
    connection = resolve_connection(api_url, dict(context.environ))

    def on_retry(what: str, error: ApiError, delay: float) -> None:
        click.echo(f"retrying {what} in {delay:.1f}s: {error.message}", err=True)

    _warn_directory_name(stack)
    retrier = Retrier(sleep=context.sleep, clock=context.clock, rng=context.rng, on_retry=on_retry)
    api = context.api_factory(connection, retrier)
    # Not the real service (a flag, or PROVISIONER_API_URL): suggested commands must say so.
    chosen = None if connection.api_url == DEFAULT_API_URL else connection.api_url
    return Session(context, stack, api, identify(api), chosen)
