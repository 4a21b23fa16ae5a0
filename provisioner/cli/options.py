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

api_url_option = click.option(
    "--api-url",
    envvar="PROVISIONER_API_URL",
    default=None,
    help="Base URL of the Inference Endpoints API, e.g. the emulator's http://127.0.0.1:8790 "
    "(env: PROVISIONER_API_URL; default: the real service).",
)

resend_secrets_option = click.option(
    "--resend-secrets",
    is_flag=True,
    help="Send every declared secret again, and record its fingerprint. A changed value is "
    "found without it when the state has the value's fingerprint (plan says which).",
)

resend_not_kept_option = click.option(
    "--resend-not-kept",
    is_flag=True,
    help="Send again the values the last apply sent and the service did not keep (the plan "
    "shows them as 'not kept by the service'); without it they are not sent again until the "
    "spec or the service changes.",
)

allow_mass_delete_option = click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Allow a plan that deletes all of the stack's endpoints, or more than "
    "max_delete_percent of them (default 50): only when that is really meant.",
)

allow_over_quota_option = click.option(
    "--allow-over-quota",
    is_flag=True,
    help="Plan (and apply) changes over a namespace's quota as provisioner counts it "
    "(accelerators per replica x max_replicas): a warning, not an error; the service decides "
    "(it may answer 409).",
)

target_option = click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="NAME",
    help="Plan (and apply) only the endpoints this names: a name or NAMESPACE/NAME, shell-style "
    "globs allowed ('chat-*'); repeatable. Creates, updates and deletes of removed specs "
    "included.",
)


format_option = click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people, or one JSON document for scripts.",
)


plan_format_option = click.option(
    "--format",
    "output",
    type=click.Choice(["text", "markdown", "json"]),
    default=None,
    help="text (default) for a terminal or a CI log; markdown for a pull-request comment (a "
    "summary, a table with each endpoint's monthly cost, details per endpoint); json for "
    "pipelines (the saved plan's document; env values that look secret are masked).",
)


def examples(*commands: str) -> str:
    """A command's `--help` epilog: examples that run as shown (`\b` keeps click from
    re-wrapping them)."""
    return "\b\nExamples:\n" + "\n".join(f"  {command}" for command in commands)
