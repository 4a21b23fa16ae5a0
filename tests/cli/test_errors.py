"""What a user sees when something goes wrong that is not their fault, or is."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.cli.context import Context
from provisioner.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "endpoints"


def broken_factory(*_: object) -> object:
    raise RuntimeError("boom with hf_supersecrettoken123")


def test_internal_error_says_bug_and_where_the_log_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "debug.log"
    context = Context(
        environ={"HF_TOKEN": "hf_demo", "PROVISIONER_API_URL": "http://127.0.0.1:9"},
        api_factory=broken_factory,  # type: ignore[arg-type]
    )
    import os

    os.environ["PROVISIONER_DEBUG_LOG"] = str(log)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["plan", "--dir", str(EXAMPLES)], context=context)
    finally:
        del os.environ["PROVISIONER_DEBUG_LOG"]
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError): this is a bug in provisioner" in err
    assert str(log) in err
    assert "Traceback" not in err
    logged = log.read_text()
    assert "RuntimeError" in logged
    assert "hf_supersecrettoken123" not in logged


def test_unreachable_api_is_reported_without_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    context = Context(
        environ={"HF_TOKEN": "hf_demo", "PROVISIONER_API_URL": "http://127.0.0.1:9"},
        sleep=lambda _: None,
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "--dir", str(EXAMPLES)], context=context)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "cannot identify the token's user: whoami: cannot connect to http://127.0.0.1:9" in err
    assert "Traceback" not in err and "hf_demo" not in err
