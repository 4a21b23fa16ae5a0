"""A `from_env` secret may not read the pipeline's own credentials (its Hugging Face token, the
state bucket's AWS keys, the CI's tokens, provisioner's settings): `validate` refuses it at the
`from_env` line, with or without other policies, unless `policies.allow_pipeline_credentials`
in `_settings.yaml` names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.spec.secrets import own_variable, pipeline_credential
from tests.support.cli import run

SPEC = """\
name: svc
model:
  repository: gpt2
  secrets:
    HF_TOKEN: {from_env: HF_TOKEN}
    DB_PASSWORD: {from_env: AWS_SECRET_ACCESS_KEY}
    API_KEY: {from_env: SVC_API_KEY}
compute: {vendor: aws, region: us-east-1, accelerator: cpu, instance_type: intel-spr,
  instance_size: x2}
"""


def _validate(
    root: Path, capsys: pytest.CaptureFixture[str], settings: str | None
) -> tuple[int, str]:
    specs = root / "endpoints"
    specs.mkdir()
    (specs / "svc.yaml").write_text(SPEC)
    if settings is not None:
        (specs / "_settings.yaml").write_text(settings)
    result = run(capsys, "validate", "--dir", str(specs))
    return result.code, result.err


def test_without_any_settings_a_pipeline_credential_is_an_error_at_its_from_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _validate(tmp_path, capsys, None)
    assert code == 1
    where = tmp_path / "endpoints" / "svc.yaml"
    assert (
        f"{where}:5:26: error: model.secrets.HF_TOKEN.from_env: HF_TOKEN is a pipeline "
        "credential (HF_*, AWS_*, GITHUB_*, GH_*, ACTIONS_*, INPUT_*, PROVISIONER_*, "
        "CI_JOB_TOKEN), which would be handed to the endpoint's container: use a variable of "
        "its own (from_env: ENDPOINT_HF_TOKEN), or list HF_TOKEN in "
        "policies.allow_pipeline_credentials"
    ) in err, err
    assert (
        f"{where}:6:29: error: model.secrets.DB_PASSWORD.from_env: AWS_SECRET_ACCESS_KEY is a "
        "pipeline credential"
    ) in err, err
    assert "(from_env: DB_PASSWORD)" in err
    assert "SVC_API_KEY" not in err
    assert err.splitlines()[-1] == "2 errors"


def test_the_settings_allow_a_listed_credential_and_only_that_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = "stack: team\npolicies:\n  allow_pipeline_credentials: [HF_TOKEN]\n"
    code, err = _validate(tmp_path, capsys, settings)
    assert code == 1
    assert "model.secrets.DB_PASSWORD.from_env: AWS_SECRET_ACCESS_KEY" in err
    assert "HF_TOKEN.from_env" not in err
    assert err.splitlines()[-1] == "1 error"
    settings = settings.replace("[HF_TOKEN]", "[HF_TOKEN, AWS_SECRET_ACCESS_KEY]")
    (tmp_path / "endpoints" / "_settings.yaml").write_text(settings)
    assert run(capsys, "validate", "--dir", str(tmp_path / "endpoints")).code == 0


def test_an_allowed_name_that_is_no_variable_name_is_a_settings_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = "stack: team\npolicies:\n  allow_pipeline_credentials: [HF-TOKEN]\n"
    code, err = _validate(tmp_path, capsys, settings)
    assert code == 1
    assert f"{tmp_path / 'endpoints' / '_settings.yaml'}:3:32: error:" in err, err


@pytest.mark.parametrize(
    "name",
    [
        "HF_TOKEN",
        "hf_token",
        "HF_TOKEN_READ",
        "HUGGING_FACE_HUB_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "INPUT_HF_TOKEN",
        "PROVISIONER_SECRETS",
        "CI_JOB_TOKEN",
    ],
)
def test_the_pipelines_own_variables_are_credentials(name: str) -> None:
    assert pipeline_credential(name)
    assert not pipeline_credential(own_variable(name))  # what a diagnostic suggests instead


@pytest.mark.parametrize(
    "name", ["SUPPORT_ASSISTANT_API_KEY", "OPENAI_API_KEY", "MY_HF_TOKEN", "ENDPOINT_HF_TOKEN"]
)
def test_a_variable_of_the_endpoints_own_is_not(name: str) -> None:
    assert not pipeline_credential(name)
    assert own_variable(name) == name
