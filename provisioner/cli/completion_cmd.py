"""`provisioner completion SHELL`: print click's tab-completion script for `provisioner`.

The script only calls back into `provisioner` (with `_PROVISIONER_COMPLETE` set), which click
answers in `cli.main` before any command runs; `LazyGroup.shell_complete` keeps the command
names from `COMMAND_TABLE`, so completing a command name imports no command module.
"""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from provisioner.cli.options import examples

SHELLS = ("bash", "zsh", "fish")
PROG_NAME = "provisioner"
# click's name for it: `_{PROG_NAME}_COMPLETE`, upper case, dashes as underscores.
COMPLETE_VAR = "_PROVISIONER_COMPLETE"


def _complete_shell(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    return [shell for shell in SHELLS if shell.startswith(incomplete)]


@click.command(
    "completion",
    epilog=(
        "\b\nInstall it:\n"
        '  bash  add  eval "$(provisioner completion bash)"  to ~/.bashrc\n'
        '  zsh   add  eval "$(provisioner completion zsh)"  to ~/.zshrc (after compinit)\n'
        "  fish  provisioner completion fish > ~/.config/fish/completions/provisioner.fish\n"
        "Then open a new shell: `provisioner pl<TAB>` completes to `plan`, and options and\n"
        "their choices complete too (`provisioner plan --format <TAB>`).\n\n"
        + examples(
            "provisioner completion bash",
            'eval "$(provisioner completion zsh)"',
            "provisioner completion fish > ~/.config/fish/completions/provisioner.fish",
        )
    ),
)
@click.argument("shell", metavar="SHELL", shell_complete=_complete_shell)
def completion(shell: str) -> None:
    """Print the tab-completion script of SHELL (bash, zsh or fish) for provisioner."""
    # A plain argument rather than click.Choice: an unknown shell is one line, not a usage block.
    completer = get_completion_class(shell) if shell in SHELLS else None
    if completer is None:
        raise click.ClickException(
            f"no completion for the shell {shell!r}: provisioner completes {', '.join(SHELLS)}"
        )
    # The running group, whatever imported this module; ctx_args are empty, as click's own.
    root = click.get_current_context().find_root().command
    click.echo(completer(root, {}, PROG_NAME, COMPLETE_VAR).source())
