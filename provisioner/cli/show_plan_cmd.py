"""`provisioner show-plan FILE`: a plan saved by `plan --out`, rendered without applying it, as
Terraform's `terraform show plan.tfplan`. Reads only the file (its checksum checked): no API
call, no token, no spec folder; the monthly cost is the one worked out when the plan was made
(a plan saved before costs shows "not estimated")."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.apply.workflow import read_plan_file
from provisioner.cli.context import Context
from provisioner.cli.options import examples, plan_format_option
from provisioner.cli.plan_view import chosen_format, echo_plan_as


@click.command(
    epilog=examples(
        "provisioner show-plan plan.json",
        "provisioner show-plan plan.json --format markdown > comment.md",
        "provisioner show-plan plan.json --format json | jq '.cost'",
    )
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@plan_format_option
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.pass_obj
def show_plan(context: Context, file: Path, output: str | None, as_json: bool) -> None:
    """Print the plan saved in FILE (by `plan --out`) as text, markdown or json; no API call."""
    view = chosen_format(output, as_json)
    echo_plan_as(context, read_plan_file(file), view)
