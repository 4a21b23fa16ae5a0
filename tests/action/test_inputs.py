"""Bad input to the action is one `::error` naming the input (never a secret value), exit-code 1
and `failed`, before the CLI runs; the comment stays under GitHub's limit however long the plan.
In process: `main()` with its environment and output given, nothing started."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from provisioner.action import texts
from provisioner.action.main import main
from provisioner.action.workflow import Workflow
from tests.action.conftest import read_outputs


def _run(tmp_path: Path, **inputs: str) -> tuple[str, dict[str, str]]:
    out = io.StringIO()
    environ = {
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "RUNNER_TEMP": str(tmp_path),
        "INPUT_COMMAND": "plan",
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
    }
    assert main(environ, out) == 0
    return out.getvalue(), read_outputs(tmp_path / "output")


@pytest.mark.parametrize(
    ("secrets", "said"),
    [
        ('{"API_KEY": "value-123', "the `secrets` input is not valid JSON (line 1, column"),
        ('["value-123"]', "the `secrets` input must be a JSON object"),
        ('{"PATH": "value-123"}', "PATH is reserved"),
        ('{"PROVISIONER_API_URL": "value-123"}', "PROVISIONER_API_URL is reserved"),
        ('{"HF_ENDPOINT": "value-123"}', "HF_ENDPOINT is reserved"),
        ('{"not a name": "value-123"}', "'not a name' is not an environment variable name"),
        ('{"API_KEY": 123}', "the value of API_KEY must be a string"),
    ],
)
def test_a_bad_secrets_json_is_refused_without_showing_a_value(
    tmp_path: Path, secrets: str, said: str
) -> None:
    printed, outputs = _run(tmp_path, secrets=secrets)

    assert printed.startswith("::error title=provisioner action%3A bad input::")
    assert said in printed
    assert "value-123" not in printed and "123" not in printed.replace(said, "")
    assert (outputs["exit-code"], outputs["failed"]) == ("1", "true")


def test_an_unknown_command_names_the_four(tmp_path: Path) -> None:
    printed, outputs = _run(tmp_path, command="destroy")

    assert (
        "the `command` input must be one of plan, apply, drift, validate, record-secrets; "
        "got 'destroy'" in (printed)
    )
    assert outputs["failed"] == "true"


def test_a_huge_plan_is_cut_to_fit_a_comment_and_says_where_the_rest_is() -> None:
    markdown = "".join(f"| acme/endpoint-{n} | create | aws | 1..2 |\n" for n in range(5_000))

    comment = texts.plan_comment(
        directory="endpoints",
        code=2,
        markdown=markdown,
        log="",
        sha="abc",
        run_url="https://github.test/run",
        artifact="provisioner-plan",
    )

    assert len(comment) <= texts.COMMENT_LIMIT
    assert "_(cut: the whole plan is in the run's `provisioner-plan` artifact)_" in comment
    assert comment.rstrip().endswith("run https://github.test/run</sub>")
    kept = [line for line in comment.splitlines() if line.startswith("| acme/endpoint-")]
    assert kept and all(line.endswith("|") for line in kept)  # cut between rows, never inside


def test_an_error_log_with_backticks_stays_inside_its_code_block() -> None:
    block = texts.code_block("error: `a` and ```fenced``` text")

    fence = block.splitlines()[0]
    assert fence == "````" and block.splitlines()[-1] == fence


def test_outputs_survive_values_with_newlines(tmp_path: Path) -> None:
    Workflow(output_file=tmp_path / "output", summary_file=None).outputs(
        {"a": "one\ntwo", "b": "x=y"}
    )

    assert read_outputs(tmp_path / "output") == {"a": "one\ntwo", "b": "x=y"}
