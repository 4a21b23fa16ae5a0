"""Print a plan in the format `--format` (or `--json`) chose: shared by `plan` and `show-plan`."""

from __future__ import annotations

import click

from provisioner.cli.colour import echo_plan
from provisioner.cli.context import Context
from provisioner.plan.model import Plan
from provisioner.render.json_plan import render_json
from provisioner.render.markdown import render_markdown
from provisioner.render.text import render_plan
from provisioner.spec.diagnostics import ProvisionerError


def chosen_format(output: str | None, as_json: bool) -> str:
    """`--json` is `--format json`, kept for the pipelines that use it; both, disagreeing, is
    a mistake said before anything runs."""
    if as_json and output not in (None, "json"):
        raise ProvisionerError.because(f"--json and --format {output} disagree: give one of them")
    return "json" if as_json else output or "text"


def echo_plan_as(context: Context, plan: Plan, output: str) -> None:
    if output == "json":
        click.echo(render_json(plan), nl=False)
    elif output == "markdown":
        click.echo(render_markdown(plan), nl=False)
    else:
        echo_plan(context, render_plan(plan))
