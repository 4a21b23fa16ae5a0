"""`provisioner hf ARGS...`: huggingface_hub's own `hf` CLI, pointed at --api-url (env
PROVISIONER_API_URL), so `hf endpoints ls`, `describe`, `update`... work against the emulator
as they do against the real service (whose URL `hf` cannot be told otherwise)."""

from __future__ import annotations

import os

import click

from provisioner.cli.options import api_url_option


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    add_help_option=False,
)
@api_url_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hf(api_url: str | None, args: tuple[str, ...]) -> None:
    """Run `hf ARGS` (huggingface_hub's CLI) against --api-url, e.g. the emulator:
    `provisioner hf --api-url http://127.0.0.1:8790 endpoints ls --namespace acme`.
    Without --api-url (and PROVISIONER_API_URL) it is plain `hf`, against the real service."""
    if api_url is not None:
        # Read by huggingface_hub when it is imported (next line): whoami and every Hub call
        # of `hf` then go to the emulator too, never to huggingface.co.
        os.environ["HF_ENDPOINT"] = api_url.rstrip("/").removesuffix("/v2")
    from provisioner.hub.client import run_hf_cli

    run_hf_cli(api_url, list(args))
