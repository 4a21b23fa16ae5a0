"""Secrets between a pull request's plan (no values) and the apply side (the values): a rotated
value does not break the reviewed digest, and is sent and reported by the apply; a missing one
holds back only the endpoint that needs it, and the history records it as refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
FIRST, SECOND = "first-value-of-the-coder-key-0001", "second-value-of-the-coder-key-0002"


def _stack(tmp_path: Path) -> Path:
    specs = tmp_path / "endpoints"
    secrets = {"API_KEY": {"from_env": "CODER_API_KEY"}}
    write_spec(specs, "coder", namespace="acme", model={"secrets": secrets})
    write_spec(specs, "chat", namespace="acme", model={"env": {"LOG_LEVEL": "info"}})
    (specs / "_settings.yaml").write_text("stack: team\n")
    return specs


def _digest(
    cli: Cli, emulator: Emulator, specs: Path, **environ: str
) -> tuple[str, dict[str, str]]:
    """The plan's digest and each change's action, as this environment's plan sees them."""
    ctx = context_for(emulator, **environ)
    document = json.loads(cli("plan", "--dir", str(specs), "--json", ctx=ctx).out)
    actions = {c["address"]: c["action"] for c in document["changes"]}
    return document["changes_digest"], actions


def test_a_rotated_secret_is_applied_without_breaking_the_reviewed_digest(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    first = context_for(emulator, CODER_API_KEY=FIRST)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=first).code == 0
    # The pull request changes another endpoint; the secret rotated on the apply side meanwhile.
    write_spec(specs, "chat", namespace="acme", model={"env": {"LOG_LEVEL": "debug"}})
    reviewed, seen = _digest(cli, emulator, specs)  # the plan job: no secret values
    assert seen == {"acme/chat": "update", "acme/coder": "no-op"}
    merged, done = _digest(cli, emulator, specs, CODER_API_KEY=SECOND)
    assert done == {"acme/chat": "update", "acme/coder": "update"}  # the rotation, apply side
    assert merged == reviewed
    second = context_for(emulator, CODER_API_KEY=SECOND)
    applied = cli(
        "apply", "--dir", str(specs), "--auto-approve", "--reviewed-digest", reviewed, ctx=second
    )
    assert applied.code == 0, applied.text
    assert "acme/coder" in applied.out and "secret" in applied.out  # the rotation is reported
    assert "Apply complete: 2 updated." in applied.out
    again = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=second)
    assert again.code == 0, again.text  # the new value was recorded


def test_a_spec_change_still_changes_the_digest_with_or_without_values(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    before, _ = _digest(cli, emulator, specs)
    write_spec(specs, "chat", namespace="acme", model={"env": {"LOG_LEVEL": "debug"}})
    after, _ = _digest(cli, emulator, specs)
    assert before != after
    # A new endpoint's secret source is part of what was reviewed.
    secrets = {"API_KEY": {"from_env": "OTHER_API_KEY"}}
    write_spec(specs, "coder", namespace="acme", model={"secrets": secrets})
    moved, _ = _digest(cli, emulator, specs)
    assert moved != after


def test_a_missing_secret_holds_back_only_its_endpoint_and_is_recorded_as_refused(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    applied = cli("apply", "--dir", str(specs), "--auto-approve", ctx=context_for(emulator))
    assert applied.code == 1
    assert (
        "acme/coder: not applied (nothing sent): secret API_KEY needs environment variable "
        "CODER_API_KEY, which is not set" in applied.err
    )
    assert "1 created; 1 refused (nothing sent)" in applied.err
    assert sorted(live(emulator)) == ["chat"]
    (record,) = (specs / ".provisioner" / "team" / "history").iterdir()
    actions = json.loads(record.read_text())["actions"]
    outcomes = {a["address"]: a["outcome"] for a in actions}
    assert outcomes == {"acme/chat": "ok", "acme/coder": "refused"}
    # Once the variable is set, the next apply creates it.
    fixed = cli(
        "apply",
        "--dir",
        str(specs),
        "--auto-approve",
        ctx=context_for(emulator, CODER_API_KEY=FIRST),
    )
    assert fixed.code == 0, fixed.text
    assert sorted(live(emulator)) == ["chat", "coder"]


def test_a_ci_plan_fails_at_the_spec_line_until_the_apply_side_records_the_name(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    pr = context_for(emulator, CI="true")
    refused = cli("plan", "--dir", str(specs), ctx=pr)
    assert refused.code == 1
    lines = (specs / "coder.yaml").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "CODER_API_KEY" in text)
    assert f"coder.yaml:{line}:" in refused.err and "error: acme/coder: apply will refuse" in (
        refused.err
    )
    # Outside CI the same plan warns (a laptop may be about to set the variable).
    assert cli("plan", "--dir", str(specs), ctx=context_for(emulator)).code == 0
    apply_side = context_for(
        emulator, CODER_API_KEY=FIRST, PROVISIONER_SECRET_NAMES="CODER_API_KEY,UNSET_NAME"
    )
    recorded = cli("state", "record-secrets", "--dir", str(specs), ctx=apply_side)
    assert recorded.code == 0, recorded.text
    assert "CODER_API_KEY" in recorded.out and "UNSET_NAME" not in recorded.out
    assert live(emulator) == {}
    passed = cli("plan", "--dir", str(specs), ctx=pr)
    assert passed.code == 0, passed.text
    assert "secret API_KEY (CODER_API_KEY) is not set here; the apply side has it" in passed.err
    again = cli("state", "record-secrets", "--dir", str(specs), ctx=apply_side)
    assert "nothing was written" in again.out
