"""A huge error body from the service (an HTML page, a stack trace, an echoed request) is cut
in what provisioner prints: its first few hundred characters and how much was cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import write_spec
from tests.support.cli import run

HUGE = "E" * 1_000_000


@pytest.mark.parametrize(("status", "body"), [(400, HUGE), (422, "word " * 200_000)])
def test_a_one_megabyte_error_body_is_cut_in_the_message(
    status: int, body: str, tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    emulator.add_fault(
        {
            "kind": "http",
            "method": "POST",
            "path": "/v2/endpoint/*",
            "status": status,
            "message": body,
        }
    )
    result = run(
        capsys,
        *("apply", "--dir", str(specs), "--auto-approve", "--no-wait"),
        context=context_for(emulator),
    )
    assert result.code == 1
    assert f"✗ acme/svc: create: {status}" in result.err, result.err[:2000]
    assert "more characters cut]" in result.err
    assert len(result.text) < 10_000, result.text[:3000]


def test_a_one_megabyte_failure_message_of_an_endpoint_is_cut(
    tmp_path: Path, emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    emulator.add_fault({"kind": "fail_deploy", "namespace": "acme", "name": "svc", "message": HUGE})
    context = context_for(emulator)
    applied = run(capsys, "apply", "--dir", str(specs), "--auto-approve", context=context)
    assert applied.code == 1
    status = run(capsys, "status", "--dir", str(specs), context=context)
    plan = run(capsys, "plan", "--dir", str(specs), context=context)
    for result in (applied, status, plan):
        assert "E" * 501 not in result.text, result.text[:3000]
        assert len(result.text) < 10_000, result.text[:3000]
    assert "more characters cut]" in applied.text
