"""`validate`, `show` and `schema` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from provisioner.spec import schema
from tests.support.cli import run

EXAMPLES = Path(__file__).resolve().parents[2] / "endpoints"


def test_validate_accepts_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "validate", "--dir", str(EXAMPLES))
    assert result.code == 0
    assert result.err == ""
    assert "5 endpoint specs valid (stack 'acme-inference')" in result.out


def test_validate_uses_endpoints_by_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLES.parent)
    assert run(capsys, "validate").code == 0


def test_show_prints_the_merged_spec_with_defaults_applied(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(capsys, "show", "support-assistant", "--dir", str(EXAMPLES))
    assert result.code == 0
    (document,) = yaml.safe_load_all(result.out)
    # From endpoints/_settings.yaml, endpoints/_defaults.yaml and endpoints/prod/_defaults.yaml:
    assert document["namespace"] == "acme"
    assert document["compute"]["vendor"] == "aws"
    assert document["protect"] is True
    assert document["state"] == "running"
    # Secrets show where the value comes from, never a value.
    assert document["model"]["secrets"] == {
        "VLLM_API_KEY": {"from_env": "SUPPORT_ASSISTANT_API_KEY"}
    }


def test_show_unknown_name_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "show", "nope", "--dir", str(EXAMPLES))
    assert result.code == 1
    assert "no spec named 'nope'" in result.err


def test_show_refuses_invalid_specs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: x\n")
    result = run(capsys, "show", "--dir", str(tmp_path))
    assert result.code == 1
    assert "bad.yaml:1:1: error: missing required keys 'compute', 'model'" in result.err


@pytest.mark.parametrize("kind", ["endpoint", "defaults", "settings"])
def test_schema_prints_the_shipped_schema(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "schema", "--kind", kind)
    expected = {
        "endpoint": schema.endpoint_schema,
        "defaults": schema.defaults_schema,
        "settings": schema.settings_schema,
    }[kind]()
    assert json.loads(result.out) == expected


def test_usage_errors_exit_1_not_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 is reserved for `plan --detailed-exitcode` (changes present)."""
    result = run(capsys, "validate", "--no-such-flag")
    assert result.code == 1
    assert "No such option" in result.err
