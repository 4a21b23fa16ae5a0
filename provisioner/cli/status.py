"""`provisioner status`: the stack's endpoints as they are now, and whether they match the specs."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option
from provisioner.cli.session import connect, load, show_diagnostics
from provisioner.hub.models import LiveEndpoint
from provisioner.plan.model import Action, ResourceChange


def _spec_column(change: ResourceChange) -> str:
    if change.refused:
        return "no spec (protected, kept)"
    if change.action is Action.NOOP:
        return "in sync"
    if change.action is Action.DELETE:
        return "no spec (apply deletes it)"
    if change.action is Action.CREATE:
        return "not created yet"
    what = "changed outside provisioner" if change.drift else f"apply will {change.action.value}"
    fields = ", ".join(f.path for f in change.fields[:3])
    return f"{what}: {fields}" if fields else what


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


@click.command()
@dir_option
@api_url_option
@click.pass_obj
def status(context: Context, spec_dir: Path, api_url: str | None) -> None:
    """Table of the stack's endpoints: state, replicas, URL, and drift from the specs."""
    session = connect(context, load(spec_dir), api_url)
    plan, fleet = session.plan()
    show_diagnostics(plan.diagnostics)
    live: dict[str, LiveEndpoint] = {
        e.address: e for group in fleet.endpoints.values() for e in group
    }
    rows = [["ENDPOINT", "STATE", "REPLICAS", "URL", "SPEC"]]
    for change in plan.changes:
        endpoint = live.get(change.address)
        state = endpoint.state.value if endpoint else "-"
        replicas = (
            f"{endpoint.ready_replicas}/{endpoint.target_replicas}"
            f" (min {endpoint.config.min_replica}, max {endpoint.config.max_replica})"
            if endpoint
            else "-"
        )
        url = endpoint.url if endpoint and endpoint.url else "-"
        rows.append([change.address, state, replicas, url, _spec_column(change)])
    if len(rows) == 1:
        click.echo(f"Stack {plan.stack!r} has no endpoints and no specs.")
        return
    click.echo(_table(rows))
    pending = sum(1 for c in plan.changes if c.is_change)
    click.echo(
        f"\n{len(plan.changes)} endpoint(s); "
        + (
            f"{pending} differ from the specs: run `provisioner plan`."
            if pending
            else "all in sync."
        )
    )
