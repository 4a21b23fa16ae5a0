"""`provisioner schema`: print the JSON Schema of a spec (or of _defaults / _settings files, or
of the JSON plan)."""

from __future__ import annotations

import json

import click

from provisioner.cli.options import examples
from provisioner.plan.document import plan_schema
from provisioner.spec import schema as spec_schema


@click.command(
    "schema", epilog=examples("provisioner schema --kind endpoint > endpoint.schema.json")
)
@click.option(
    "--kind",
    type=click.Choice(["endpoint", "defaults", "settings", "plan"]),
    default="endpoint",
    show_default=True,
    help="Which file the schema is for (plan: the document of `plan --format json` and `--out`).",
)
def schema(kind: str) -> None:
    """Print the JSON Schema (Draft 2020-12) that specs are validated against."""
    if kind == "plan":
        document = plan_schema()
    elif kind == "defaults":
        document = spec_schema.defaults_schema()
    elif kind == "settings":
        document = spec_schema.settings_schema()
    else:
        document = spec_schema.endpoint_schema()
    click.echo(json.dumps(document, indent=2))
