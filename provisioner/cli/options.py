"""Options shared by several commands, so they are spelled and documented once."""

from __future__ import annotations

from pathlib import Path

import click

dir_option = click.option(
    "--dir",
    "spec_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("endpoints"),
    show_default=True,
    envvar="PROVISIONER_DIR",
    help="Spec directory of the stack (env: PROVISIONER_DIR).",
)
