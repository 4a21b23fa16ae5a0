"""`provisioner smoke [NAME...]`: run the spec's smoke tests against the live endpoints."""

from __future__ import annotations

from pathlib import Path

import click

from provisioner.apply.smoke_tests import smoke_stack
from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option, examples
from provisioner.cli.session import connect, load
from provisioner.render.smoke import render_smoke_json, render_smoke_text


@click.command(
    "smoke",
    epilog=examples(
        "provisioner smoke --dir endpoints   # every spec with a smoke: test",
        "provisioner smoke flan-t5-summarizer 'acme/review-*'",
        "provisioner smoke --format json   # for a pipeline",
    ),
)
@click.argument("names", nargs=-1)
@dir_option
@api_url_option
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One line per endpoint for people, or one JSON document for scripts.",
)
@click.pass_obj
def smoke(
    context: Context, /, names: tuple[str, ...], spec_dir: Path, api_url: str | None, output: str
) -> None:
    """Run the smoke tests of NAMES (default: every spec with `smoke:`) against their endpoints.

    NAME is a spec's name or NAMESPACE/NAME, shell-style globs allowed, as --target takes it.
    Exit 0 when every test passed or was not run (a private or paused endpoint, a named spec
    without `smoke:`), 1 when any failed. Nothing is changed, except that a scaled-to-zero
    endpoint wakes up.
    """
    session = connect(context, load(spec_dir, check_policies=False), api_url)
    results = smoke_stack(
        session.stack,
        session.api,
        session.identity,
        names,
        environ=context.environ,
        clock=context.clock,
        sleep=context.sleep,
        scrubber=session.scrubber(),
    )
    ok = all(r.ok for r in results)
    if output == "json":
        click.echo(render_smoke_json(results), nl=False)
    elif not results:
        click.echo(f"No spec under {spec_dir} has a smoke: test.")
    else:
        click.echo(render_smoke_text(results), nl=False, err=not ok)
    if not ok:
        raise SystemExit(1)
