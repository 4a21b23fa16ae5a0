"""The `provisioner` click group; each command lives in its own module."""

from __future__ import annotations

import click

from provisioner import __version__
from provisioner.cli.emulator_cmd import emulator


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="provisioner")
def cli() -> None:
    """Declare Hugging Face Inference Endpoints in YAML; plan and apply changes."""


cli.add_command(emulator)


def main() -> None:
    cli()
