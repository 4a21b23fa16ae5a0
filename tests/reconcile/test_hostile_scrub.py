"""Hostile answers (issue 21): what the service says back may quote what it was sent, secret
values included, or carry terminal escape sequences. Nothing of a secret reaches the output, the
history or the state, and every control character from outside is printed escaped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]

# Variables whose names look like nothing secret: only scrubbing by value can hide them.
OLD = "pg-old-4f1a9c2e7b"
NEW = "pg-new-9d3e5a1c0f"
SECRETS = {"PG": {"from_env": "DB_PASS"}}


def _stored(specs: Path) -> str:
    """Everything the stack's state backend holds (state, history)."""
    folder = specs / ".provisioner"
    return "\n".join(p.read_text() for p in folder.rglob("*.json"))


def test_a_422_quoting_the_sent_secret_is_printed_and_recorded_without_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"secrets": SECRETS})
    old = context_for(emulator, DB_PASS=OLD)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=old).code == 0
    # The rotation sends the new value in a PUT; the service rejects it and quotes the body.
    emulator.add_fault(
        {
            "kind": "http",
            "method": "PUT",
            "path": "/v2/endpoint/acme/svc",
            "status": 422,
            "message": "invalid secrets in body",
            "echo_body": True,
        }
    )
    new = context_for(emulator, DB_PASS=NEW)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=new)
    assert result.code == 1
    assert "invalid secrets in body" in result.err
    assert '{"PG":"***"}' in result.err  # the quoted body, its value blanked
    assert NEW not in result.text and OLD not in result.text
    stored = _stored(specs)
    assert "invalid secrets in body" in stored  # the history says why it failed
    assert NEW not in stored and OLD not in stored
    for listing in (("history",), ("history", "--json"), ("state", "show", "--json")):
        shown = cli(*listing, "--dir", str(specs), ctx=new)
        assert NEW not in shown.text and OLD not in shown.text


def test_a_smoke_answer_holding_a_previous_secret_value_is_blanked(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"secrets": SECRETS})
    assert (
        cli(
            "apply", "--dir", str(specs), "--auto-approve", ctx=context_for(emulator, DB_PASS=OLD)
        ).code
        == 0
    )
    # The value was rotated in the environment, not yet applied: the endpoint still holds the
    # old one, known only by its fingerprint in the state. Its answer echoes it.
    echo = {"inputs": f"the password was {OLD}", "parameters": {"return_full_text": True}}
    write_spec(
        specs,
        "svc",
        namespace="acme",
        model={"secrets": SECRETS},
        smoke={"request": echo, "expect": {"status": 201}},
    )
    for output in ("text", "json"):
        ctx = context_for(emulator, DB_PASS=NEW)
        result = cli("smoke", "--dir", str(specs), "--format", output, ctx=ctx)
        assert result.code == 1
        assert "the password was ***" in result.text
        assert OLD not in result.text


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m"


def test_escape_sequences_from_the_service_are_printed_escaped(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "bad", namespace="acme")
    write_spec(specs, "doomed", namespace="acme")
    emulator.add_fault(
        {
            "kind": "http",
            "method": "POST",
            "path": "/v2/endpoint/acme",
            "status": 422,
            "count": 1,
            "message": f"rejected {ESCAPES}",
        }
    )
    emulator.add_fault(
        {
            "kind": "fail_deploy",
            "namespace": "acme",
            "name": "doomed",
            "message": f"weights missing {ESCAPES}",
        }
    )
    result = cli("apply", "--dir", str(specs), "--auto-approve", "--parallelism", "1")
    assert result.code == 1
    shown = "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m"
    assert f"rejected {shown}" in result.err
    assert f"weights missing {shown}" in result.err
    for text in (result.out, result.err):
        assert not any(ch in text for ch in "\x1b\x07\x9b")
    history = cli("history", "--dir", str(specs))
    assert f"weights missing {shown}" in history.out
    assert not any(ch in history.text for ch in "\x1b\x07\x9b")
    listed = cli("history", "--json", "--dir", str(specs))
    assert not any(ch in listed.text for ch in "\x1b\x07\x9b")
    messages = [a["message"] for a in json.loads(listed.out.splitlines()[0])["actions"]]
    assert any(m.endswith(f"weights missing {shown}") for m in messages)
