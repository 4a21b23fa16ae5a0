"""Input that once crashed `validate` ("internal error") or made it crawl: each is now a located
error (issue: reliability and security, "crashes after changes were sent")."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.spec import discover
from tests.spec.test_stack import COMPUTE, write
from tests.support.cli import Result, run


@pytest.fixture
def chdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def validate(capsys: pytest.CaptureFixture[str], directory: str) -> Result:
    # `run` fails the test on a traceback or an "internal error".
    return run(capsys, "validate", "--dir", directory)


def test_ten_thousand_nested_lists_are_a_located_error(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(chdir, {"e/deep.yaml": "name: deep\nmodel: " + "[" * 10_000 + "]" * 10_000 + "\n"})
    result = validate(capsys, "e")
    assert result.code == 1
    assert result.err == "e/deep.yaml:2:71: error: nesting deeper than 64 levels\n1 error\n"


def test_deeply_nested_block_mappings_are_a_located_error(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "name: deep\nmodel:\n" + "".join(f"{' ' * (i + 1)}k{i}:\n" for i in range(2_000))
    write(chdir, {"e/_defaults.yaml": text})
    result = validate(capsys, "e")
    assert result.code == 1
    assert result.err == "e/_defaults.yaml:66:65: error: nesting deeper than 64 levels\n1 error\n"


def test_a_spec_directory_that_is_a_symlink_loop_is_an_error(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("loop").symlink_to("loop")
    result = validate(capsys, "loop")
    assert result.code == 1
    assert result.err.startswith(
        "loop:1:1: error: spec directory is a symbolic link that leads to no directory (a loop"
    )


def test_a_huge_folder_is_refused_quickly_instead_of_walked(
    chdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--dir /` once walked the whole filesystem for minutes, one warning per file."""
    monkeypatch.setattr(discover, "MAX_ENTRIES", 50)
    write(chdir, {"e/a.yaml": "name: a\nmodel: {repository: gpt2}\n" + COMPUTE})
    write(chdir, {f"e/notes/{i}.txt": "" for i in range(60)})
    result = validate(capsys, "e")  # refused after MAX_ENTRIES entries, not walked to the end
    assert result.code == 1
    assert result.err == (
        "e:1:1: error: more than 50 files and folders below this folder: it is not a spec "
        "directory; pass the folder that holds the stack's specs (--dir)\n1 error\n"
    )


def test_the_root_folder_is_refused_after_a_bounded_walk(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk stops at MAX_ENTRIES entries (a count, not a clock: pytest-timeout catches a
    walk that would not stop)."""
    monkeypatch.chdir("/")
    result = validate(capsys, "/")
    assert result.code == 1
    assert "more than 10000 files and folders below this folder" in result.err


def test_integers_with_thousands_of_digits_are_a_located_error(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past Python's limit on the digits int() converts (4,300), the loader once raised an
    internal error; a size of `x` and thousands of digits passes the schema and once did too."""
    digits = "1" * 5_000
    write(
        chdir,
        {
            "e/replicas.yaml": f"name: a\nmodel: {{repository: gpt2}}\n{COMPUTE}"
            f"scaling: {{max_replicas: {digits}}}\n",
            "e/tagged.yaml": f"name: b\nmodel: {{repository: gpt2}}\n{COMPUTE}"
            f'scaling: !!int "{digits}"\n',
            "e/size.yaml": "name: c\nmodel: {repository: gpt2, engine: vllm}\n"
            "compute: {vendor: aws, region: us-east-1, accelerator: gpu, "
            f"instance_type: nvidia-a10g, instance_size: x{digits}}}\n",
            "e/smoke.yaml": f"name: d\nmodel: {{repository: gpt2}}\n{COMPUTE}"
            f'smoke: {{request: {{inputs: hi}}, expect: {{keys: ["[{digits}]"]}}}}\n',
        },
    )
    result = validate(capsys, "e")
    assert result.code == 1
    lines = result.err.splitlines()
    assert (
        "e/replicas.yaml:4:25: error: integer of more than 1000 digits; no value is this large"
        in lines
    )
    assert (
        "e/tagged.yaml:4:10: error: integer of more than 1000 digits; no value is this large"
        in lines
    )
    assert not [line for line in lines if line.startswith("e/size.yaml")]  # a size plan checks
    assert [line for line in lines if line.startswith("e/smoke.yaml:")], lines
