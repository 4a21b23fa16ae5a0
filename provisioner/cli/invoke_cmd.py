"""`provisioner invoke NAME --data JSON`: call an endpoint as an application would, and show the
answer (cut short, secrets blanked)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from provisioner.apply.invoke import DEFAULT_TIMEOUT, invoke_endpoint, one_spec
from provisioner.apply.smoke_tests import spec_secret_values
from provisioner.cli.context import Context
from provisioner.cli.options import api_url_option, dir_option, examples
from provisioner.cli.run import Seconds
from provisioner.cli.session import connect, load
from provisioner.render.invoke import render_invocation
from provisioner.spec.diagnostics import ProvisionerError, clip
from provisioner.spec.scrub import escape_controls


def _body(data: str) -> dict[str, Any]:
    """`--data` as the JSON object to send; `-` reads it from stdin. A mistake stops the run
    before anything is read from the service or sent."""
    text = sys.stdin.read() if data == "-" else data
    where = "the JSON read from stdin" if data == "-" else "--data"
    try:
        body = json.loads(text)
    except ValueError as error:
        raise ProvisionerError.because(
            f"{where} is not valid JSON ({error}); write the request body as an application "
            'sends it, e.g. --data \'{"inputs": "Hello", "parameters": {"max_new_tokens": 20}}\'. '
            "Nothing was sent"
        ) from error
    if not isinstance(body, dict):
        kind = type(body).__name__.replace("dict", "object").replace("NoneType", "null")
        raise ProvisionerError.because(
            f"{where} is a JSON {escape_controls(clip(kind, 40))}, not an object: the request "
            'body is an object such as {"inputs": "Hello"}. Nothing was sent'
        )
    return body


@click.command(
    "invoke",
    epilog=examples(
        'provisioner invoke chat-bot --data \'{"inputs": "Hello"}\'',
        'echo \'{"inputs": ["a", "b"]}\' | provisioner invoke acme/search-embeddings --data -',
    ),
)
@click.argument("name")
@click.option(
    "--data",
    required=True,
    metavar="JSON",
    help='The request body, a JSON object such as \'{"inputs": "Hello", "parameters": '
    "{...}}'; '-' reads it from stdin.",
)
@click.option(
    "--timeout",
    type=Seconds(),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds a scaled-to-zero endpoint may take to wake: sent as X-Scale-Up-Timeout, and "
    "how long its 503 answers are retried.",
)
@dir_option
@api_url_option
@click.pass_obj
def invoke(
    context: Context, /, name: str, data: str, timeout: float, spec_dir: Path, api_url: str | None
) -> None:
    """Send one request to endpoint NAME as an application would, and print its answer.

    NAME is a spec's name or NAMESPACE/NAME. The body is POSTed as JSON to the endpoint's URL
    with the token of the environment (HF_TOKEN) as a Bearer and X-Scale-Up-Timeout, as
    huggingface_hub's InferenceClient or `curl` would. Prints the status, then the answer (cut
    short, secret values blanked). Exit 0 for a 2xx answer, 1 for any other, or when the
    endpoint cannot be called (not created, paused, private, failed); then nothing is sent.
    """
    body = _body(data)
    session = connect(context, load(spec_dir, check_policies=False), api_url)
    specs = session.stack.resolved_specs(session.identity.user)
    spec = one_spec(specs, name)
    # Every spec's secret values, as `provisioner smoke` blanks them: an endpoint may echo any.
    scrubber = session.scrubber().with_values(
        value for each in specs for value in spec_secret_values(each, context.environ)
    )
    result = invoke_endpoint(
        spec,
        session.api,
        body,
        timeout=timeout,
        clock=context.clock,
        sleep=context.sleep,
        scrubber=scrubber,
        apply_command=session.command("apply"),
    )
    click.echo(render_invocation(result), nl=False, err=not result.ok)
    if not result.ok:
        raise SystemExit(1)
