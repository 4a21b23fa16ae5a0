"""Colour for a plan on a terminal: the action symbol and address of each change, as Terraform
colours them (create green, update yellow, delete red, replace magenta). Only when stdout is a
terminal, `NO_COLOR` (https://no-color.org) is not set and `TERM` is not `dumb`; the renderers
stay plain text, the colour is added here."""

from __future__ import annotations

import re

import click

from provisioner.cli.context import Context

_COLOURS = {"+": "green", "~": "yellow", "-": "red", "-/+": "magenta", "||": "cyan", ">": "cyan"}
# `  + acme/svc: create` (an action line): indent, symbol, address.
_ACTION = re.compile(r"^(\s*)(-/\+|\+|~|-|\|\||>) (\S+:)", re.MULTILINE)


def enabled(context: Context) -> bool:
    environ = context.environ
    return context.is_tty() and "NO_COLOR" not in environ and environ.get("TERM") != "dumb"


def colour_plan(text: str) -> str:
    def paint(match: re.Match[str]) -> str:
        indent, symbol, address = match.groups()
        colour = _COLOURS[symbol]
        return (
            f"{indent}{click.style(symbol, fg=colour, bold=True)} {click.style(address, bold=True)}"
        )

    return _ACTION.sub(paint, text)


def echo_plan(context: Context, text: str) -> None:
    """Print a rendered plan, coloured when this terminal wants colour."""
    if enabled(context):
        click.echo(colour_plan(text), nl=False, color=True)
    else:
        click.echo(text, nl=False)
