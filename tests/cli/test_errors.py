"""What a user sees when something goes wrong that is not their fault, or is."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from provisioner.cli.context import Context
from provisioner.cli.main import main
from tests.reconcile.helpers import write_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "endpoints"


def broken_factory(*_: object) -> object:
    raise RuntimeError("boom with hf_supersecrettoken123")


def test_internal_error_says_bug_and_where_the_log_is(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "debug.log"
    context = Context(
        environ={
            "HF_TOKEN": "hf_demo",
            "PROVISIONER_API_URL": "http://127.0.0.1:9",
            "PROVISIONER_DEBUG_LOG": str(log),
        },
        api_factory=broken_factory,  # type: ignore[arg-type]
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "--dir", str(EXAMPLES)], context=context)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "internal error (RuntimeError): this is a bug in provisioner" in err
    assert str(log) in err
    assert "Traceback" not in err
    logged = log.read_text()
    assert "RuntimeError" in logged
    assert "hf_supersecrettoken123" not in logged


DB_PASSWORD = "pg-pass-0d7e1c-not-a-token"


def test_the_debug_log_is_private_to_the_user_and_holds_no_secret_value(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A secret whose variable's name says nothing (DB_PASS is no *TOKEN*/*KEY*/*PASSWORD*):
    # the log is scrubbed of it by its value, as a spec names it in `from_env`.
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"secrets": {"PG": {"from_env": "DB_PASS"}}})

    def leaky_factory(*_: object) -> object:
        raise RuntimeError(f"could not connect with {DB_PASSWORD}")

    state_home = tmp_path / "state"
    context = Context(
        environ={
            "HF_TOKEN": "hf_demo",
            "PROVISIONER_API_URL": "http://127.0.0.1:9",
            "DB_PASS": DB_PASSWORD,
            "XDG_STATE_HOME": str(state_home),
        },
        api_factory=leaky_factory,  # type: ignore[arg-type]
    )
    with pytest.raises(SystemExit):
        main(["plan", "--dir", str(specs)], context=context)
    err = capsys.readouterr().err
    log = state_home / "provisioner" / "debug.log"
    assert f"the details are in {log}" in err
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    logged = log.read_text()
    assert "could not connect with ***" in logged
    assert DB_PASSWORD not in logged and DB_PASSWORD not in err


def test_a_debug_log_left_readable_is_made_private(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = tmp_path / "debug.log"
    log.write_text("older run\n")
    log.chmod(0o644)
    context = Context(
        environ={
            "HF_TOKEN": "hf_demo",
            "PROVISIONER_API_URL": "http://127.0.0.1:9",
            "PROVISIONER_DEBUG_LOG": str(log),
        },
        api_factory=broken_factory,  # type: ignore[arg-type]
    )
    with pytest.raises(SystemExit):
        main(["plan", "--dir", str(EXAMPLES)], context=context)
    capsys.readouterr()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert log.read_text().startswith("older run\n")


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
