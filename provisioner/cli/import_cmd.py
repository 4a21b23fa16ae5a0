"""`provisioner import`: write specs for endpoints that exist but are not managed yet.

Writes files only; changes nothing on the service. The specs carry `adopt: true`, and the next
apply adds the ownership tags (and whatever else the spec is then edited to say).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import click

from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option
from provisioner.cli.session import Session, connect
from provisioner.hub.errors import ApiError
from provisioner.hub.models import LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.imports import import_notes, spec_document
from provisioner.spec.diagnostics import ProvisionerError
from provisioner.spec.emit import dump_documents
from provisioner.spec.schema import SCHEMA_FILE
from provisioner.spec.stack import Stack, load_stack

HEADER = (
    "# yaml-language-server: $schema={schema}\n"
    "# Imported by `provisioner import` from {address}. Server defaults are left out;\n"
    "# `adopt: true` lets the next apply take this endpoint over (it adds the ownership tags).\n"
)


def _chosen(
    session: Session, namespace: str, names: tuple[str, ...], import_all: bool
) -> list[LiveEndpoint]:
    try:
        listing = session.api.list_endpoints(namespace)
    except ApiError as error:
        raise ProvisionerError.because(f"cannot list endpoints of {namespace}: {error}") from error
    endpoints = {e.name: e for e in listing.endpoints}
    unreadable = {u.name: u for u in listing.unreadable if u.name in names or import_all}
    for found in unreadable.values():
        click.echo(f"skipped: {found.address} cannot be read: {found.problem}", err=True)
    chosen = sorted(endpoints) if import_all else [n for n in names if n not in unreadable]
    missing = [n for n in chosen if n not in endpoints]
    if missing:
        raise ProvisionerError.because(
            f"no endpoint named {', '.join(missing)} in namespace {namespace}"
        )
    return [endpoints[name] for name in chosen]


def _write_specs(
    endpoints: list[LiveEndpoint], spec_dir: Path, stack: Stack
) -> tuple[list[Path], list[str]]:
    """Write a spec per endpoint that is unmanaged and has no file yet; say why for the rest."""
    written, skipped = [], []
    shipped = Path(str(resources.files("provisioner.spec").joinpath(SCHEMA_FILE)))
    for endpoint in endpoints:
        owner = ownership.owner(endpoint.config.tags)
        if owner is not None:
            skipped.append(f"{endpoint.address} is already managed by stack {owner!r}")
            continue
        target = spec_dir / f"{endpoint.name}.yaml"
        if target.exists():
            skipped.append(f"{target} exists; not overwritten")
            continue
        document = spec_document(endpoint, default_namespace=stack.settings.namespace)
        schema = os.path.relpath(shipped, target.parent.resolve())
        header = HEADER.format(schema=schema, address=endpoint.address)
        target.write_text(header + dump_documents([document]).removeprefix("---\n"))
        for note in import_notes(endpoint):
            click.echo(f"note: {endpoint.address}: {note}", err=True)
        written.append(target)
    return written, skipped


@click.command("import")
@click.argument("names", nargs=-1)
@click.option("--all", "import_all", is_flag=True, help="Import every unmanaged endpoint.")
@click.option("--namespace", help="Namespace to import from (default: the stack's namespace).")
@dir_option
@api_url_option
@click.pass_obj
def import_(
    context: Context,
    names: tuple[str, ...],
    import_all: bool,
    namespace: str | None,
    spec_dir: Path,
    api_url: str | None,
) -> None:
    """Write a minimal spec into --dir for each existing endpoint NAME (or --all)."""
    if bool(names) == import_all:
        raise ProvisionerError.because("give endpoint NAMES or --all (not both)")
    stack, _ = load_stack(spec_dir)
    if not spec_dir.is_dir():
        raise ProvisionerError.because(f"{spec_dir}: spec directory not found")
    session = connect(context, stack, api_url)
    namespace = namespace or stack.default_namespace(session.identity.user)
    chosen = _chosen(session, namespace, names, import_all)
    written, skipped = _write_specs(chosen, spec_dir, stack)
    for line in skipped:
        click.echo(f"skipped: {line}", err=True)
    for path in written:
        click.echo(f"wrote {path}")
    if written:
        click.echo("Review them, then `provisioner plan`: adopting only adds ownership tags.")
    if not written and not import_all:
        raise SystemExit(1)
