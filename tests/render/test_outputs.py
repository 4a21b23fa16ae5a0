"""The outputs renderers and the default variable rule, on values (no emulator): what each
format writes for a URL and for an endpoint without one."""

from __future__ import annotations

import json

import pytest

from provisioner.apply.outputs import Absence, EndpointOutput, Moved
from provisioner.render.outputs import (
    render_dotenv,
    render_env,
    render_github,
    render_moved,
    render_outputs_json,
)
from provisioner.spec.outputs import default_url_variable

URL = "https://abc123.us-east-1.aws.endpoints.huggingface.cloud"
UP = EndpointOutput("acme", "chat-bot", "CHAT_BOT_URL", URL, "running", None, "chat-bot.yaml")
DOWN = EndpointOutput("acme", "old", "OLD_URL", None, "paused", Absence.PAUSED, "old.yaml")


@pytest.mark.parametrize(
    ("name", "variable"),
    [("chat-bot", "CHAT_BOT_URL"), ("a", "A_URL"), ("llama-3-8b", "LLAMA_3_8B_URL")],
)
def test_the_default_variable_is_the_name_upper_cased_with_underscores(
    name: str, variable: str
) -> None:
    assert default_url_variable(name) == variable


def test_each_format_gives_the_url_and_says_why_one_is_missing() -> None:
    assert render_env([UP, DOWN]).splitlines() == [
        f"export CHAT_BOT_URL={URL}",
        "# OLD_URL not set: acme/old is paused, and a paused endpoint has no URL; set "
        "`state: running` in its spec (or wait for its schedule) and run `provisioner apply` "
        "to resume it",
    ]
    assert render_dotenv([UP, DOWN]).splitlines()[0] == f"CHAT_BOT_URL={URL}"
    assert render_github([UP, DOWN]) == f"CHAT_BOT_URL={URL}\n"
    document = json.loads(render_outputs_json([UP, DOWN], stack="s"))
    assert document["values"] == {"CHAT_BOT_URL": URL}
    assert document["outputs"][1]["reason"] == "paused"
    assert document["outputs"][1]["detail"].startswith("acme/old is paused")


def test_the_apply_block_names_new_moved_and_gone_urls_and_is_empty_without_any() -> None:
    moved = [
        Moved(UP, None),
        Moved(EndpointOutput("acme", "svc", "SVC_URL", URL + "/2", "running"), URL),
        Moved(DOWN, URL),
    ]
    assert render_moved(moved, output_command="provisioner output --dir d").splitlines() == [
        "",
        "Outputs changed:",
        f"  acme/chat-bot: CHAT_BOT_URL={URL}",
        f"  acme/svc: SVC_URL moved: {URL} -> {URL}/2",
        "  acme/old: OLD_URL not set now: it is paused, and a paused endpoint has no URL; set "
        "`state: running` in its spec (or wait for its schedule) and run `provisioner apply` to "
        "resume it",
        "Pass them on to the applications: `provisioner output --dir d`.",
    ]
    assert render_moved([]) == ""
