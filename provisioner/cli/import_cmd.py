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
from provisioner.cli.options import api_url_option, dir_option, examples
from provisioner.cli.session import Session, connect
from provisioner.cli.specs import load_specs
from provisioner.hub.errors import ApiError
from provisioner.hub.models import LiveEndpoint
from provisioner.plan import ownership
from provisioner.plan.imports import import_notes, import_warnings, spec_document
from provisioner.spec.diagnostics import ProvisionerError, bounded, shown
from provisioner.spec.discover import git_root
from provisioner.spec.emit import dump_documents
from provisioner.spec.schema import SCHEMA_FILE, valid_name
from provisioner.spec.stack import Stack

HEADER = (
    "{schema}"
    "# Imported by `provisioner import` from {address}. Server defaults are left out;\n"
    "# `adopt: true` lets the next apply take this endpoint over (it adds the ownership tags).\n"
)
MODELINE = "# yaml-language-server: $schema={path}\n"
# Where the schema is not in the repository (provisioner installed from PyPI): a path to it
# would name this machine's virtualenv, so the header says how to get one instead.
NO_MODELINE = (
    "# Editor schema: `mkdir -p schemas && provisioner schema > schemas/endpoint.schema.json`\n"
    "# at the repository's root (`provisioner init` writes it too); specs imported after that\n"
    "# get a `yaml-language-server` modeline pointing at it.\n"
)


def _schema_line(target: Path) -> str:
    """A modeline relative to the spec, when the repository holds the schema: the copy
    `provisioner init` wrote (`schemas/`), or the shipped one in this checkout (it then works
    wherever the repository is cloned); else how to make one."""
    shipped = Path(str(resources.files("provisioner.spec").joinpath(SCHEMA_FILE))).resolve()
    here = target.parent.resolve()
    root = git_root(here)
    written = None if root is None else root / "schemas" / SCHEMA_FILE
    if written is not None and written.is_file():
        return MODELINE.format(path=Path(os.path.relpath(written, here)).as_posix())
    if root is None or not shipped.is_relative_to(root) or ".venv" in shipped.parts:
        return NO_MODELINE
    return MODELINE.format(path=Path(os.path.relpath(shipped, here)).as_posix())


def _chosen(
    session: Session, namespace: str, names: tuple[str, ...], import_all: bool
) -> list[LiveEndpoint]:
    try:
        listing = session.api.list_endpoints(namespace)
    except ApiError as error:
        raise ProvisionerError.because(f"cannot list endpoints of {namespace}: {error}") from error
    endpoints = {e.name: e for e in listing.endpoints}
    # Listed names that fail the name rule have no `name` (None): each is said, by position.
    unreadable = [u for u in listing.unreadable if u.name in names or import_all]
    for found in unreadable:
        click.echo(
            f"skipped: {bounded(f'{found.address} cannot be read: {found.problem}')}", err=True
        )
    blocked = {u.name for u in unreadable}
    chosen = sorted(endpoints) if import_all else [n for n in names if n not in blocked]
    missing = [n for n in chosen if n not in endpoints]
    if missing:
        raise ProvisionerError.because(
            f"no endpoint named {', '.join(missing)} in namespace {namespace}"
        )
    return [endpoints[name] for name in chosen]


class Refused(Exception):
    """An endpoint whose spec is not written, with the reason; `problem` when the person
    importing must act (not merely "already managed" or "already has a file")."""

    def __init__(self, reason: str, *, problem: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problem = problem


def _target(endpoint: LiveEndpoint, spec_dir: Path) -> Path:
    """The file for `endpoint`: named after it only when its name passes the spec's name
    rule (so it has no '/', '..' or leading '/'), directly inside `spec_dir`, and not there yet
    (a symbolic link there, even a dangling one, is never followed)."""
    owner = ownership.owner(endpoint.config.tags)
    if owner is not None:
        raise Refused(f"{endpoint.address} is already managed by stack {owner!r}", problem=False)
    if not valid_name(endpoint.name):
        raise Refused(
            f"{endpoint.namespace}/{shown(endpoint.name)}: the API lists an endpoint under a name "
            "that is not a valid spec name (lowercase letters, digits and '-', at most 32 "
            "characters); no file name is derived from it"
        )
    target = spec_dir / f"{endpoint.name}.yaml"
    if target.is_symlink():
        raise Refused(f"{target} is a symbolic link; not followed")
    if target.exists():
        raise Refused(f"{target} exists; not overwritten", problem=False)
    return target


def _create(target: Path, text: str) -> None:
    """Write a new file at `target`, or fail: never through a link, never over a file that
    appeared since the checks (O_EXCL), and no half-written file left behind."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError as error:
        raise Refused(f"{target} exists; not overwritten", problem=False) from error
    except OSError as error:
        raise Refused(f"{target} could not be created: {error.strerror}") from error
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        target.unlink(missing_ok=True)
        raise Refused(f"{target} could not be written: {error.strerror}") from error


def _write_spec(endpoint: LiveEndpoint, spec_dir: Path, stack: Stack) -> Path:
    """Write the spec of one unmanaged endpoint that has no file yet, or raise `Refused`."""
    target = _target(endpoint, spec_dir)
    document = spec_document(endpoint, default_namespace=stack.settings.namespace)
    header = HEADER.format(schema=_schema_line(target), address=endpoint.address)
    _create(target, header + dump_documents([document]).removeprefix("---\n"))
    for note in import_notes(endpoint):
        click.echo(f"note: {endpoint.address}: {note}", err=True)
    for warning in import_warnings(endpoint):
        click.echo(f"warning: {endpoint.address}: {warning}", err=True)
    return target


def _write_specs(endpoints: list[LiveEndpoint], spec_dir: Path, stack: Stack) -> tuple[int, int]:
    """Write each spec, listing each file as it is written and each endpoint skipped (with
    why) as it is skipped, so the list is complete up to any failure. Returns how many were
    written and how many refused for a problem."""
    written = problems = 0
    for endpoint in endpoints:
        try:
            path = _write_spec(endpoint, spec_dir, stack)
        except Refused as refused:
            click.echo(f"skipped: {refused.reason}", err=True)
            problems += refused.problem
            continue
        click.echo(f"wrote {path}")
        written += 1
    return written, problems


@click.command(
    "import",
    epilog=examples(
        "provisioner import my-endpoint --namespace acme --dir endpoints",
        "provisioner import --all --namespace acme --dir endpoints/imported",
    ),
)
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
    stack, _ = load_specs(spec_dir)
    if not spec_dir.is_dir():
        raise ProvisionerError.because(f"{spec_dir}: spec directory not found")
    session = connect(context, stack, api_url)
    namespace = namespace or stack.default_namespace(session.identity.user)
    chosen = _chosen(session, namespace, names, import_all)
    if import_all and not chosen:
        click.echo(f"Nothing to import: namespace {namespace} has no endpoints.", err=True)
        return
    written, problems = _write_specs(chosen, spec_dir, stack)
    if import_all and not written and not problems:
        click.echo(
            f"Nothing to import: every endpoint of namespace {namespace} is managed already or "
            "has a spec file (listed above).",
            err=True,
        )
    if written:
        click.echo(
            f"Review them, then `{session.command('plan')}`: adopting only adds ownership tags."
        )
    if problems or (not written and not import_all):
        raise SystemExit(1)
