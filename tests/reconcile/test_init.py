"""`provisioner init`: a specs repository from nothing, whose result validates, plans and applies
at once; an existing repository keeps every file it had."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
import yaml
from huggingface_hub import HfApi

from provisioner import REPOSITORY, __version__
from provisioner.emulator import Emulator
from provisioner.spec.schema import endpoint_schema
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import unmanaged
from tests.support.cli import Result

Cli = Callable[..., Result]

SCAFFOLD = resources.files("provisioner").joinpath("scaffold")
WORKFLOWS = sorted(
    entry.name for entry in SCAFFOLD.joinpath("workflows").iterdir() if entry.name.endswith(".yml")
)


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty git repository, the working directory."""
    root = tmp_path / "ML Platform"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    monkeypatch.chdir(root)
    return root


def test_init_writes_a_repository_that_validates_and_whose_modelines_resolve(
    repo: Path, cli: Cli
) -> None:
    done = cli("init")
    assert done.code == 0, done.text
    files = _files(repo)
    assert set(files) == {
        "endpoints/_settings.yaml",
        "endpoints/flan-t5-base.yaml",
        "schemas/endpoint.schema.json",
        "schemas/settings.schema.json",
        "schemas/defaults.schema.json",
        ".pre-commit-config.yaml",
        ".gitignore",
        ".github/zizmor.yml",
        *(f".github/workflows/{name}" for name in WORKFLOWS if name != "provisioner-schedule.yml"),
    }
    for path in files:
        assert f"  created  {path}\n" in done.out
    # The stack is named after the repository's folder, made valid.
    assert yaml.safe_load(files["endpoints/_settings.yaml"])["stack"] == "ml-platform"
    # The starter: google/flan-t5-base, a small CPU on AWS us-east-1, scaled to zero when idle.
    spec = yaml.safe_load(files["endpoints/flan-t5-base.yaml"])
    assert spec["model"]["repository"] == "google/flan-t5-base"
    assert (spec["compute"]["vendor"], spec["compute"]["region"]) == ("aws", "us-east-1")
    assert spec["compute"]["accelerator"] == "cpu"
    assert spec["scaling"]["min_replicas"] == 0
    # Each modeline names a schema file that exists, relative to the file that names it.
    for name in ("endpoints/_settings.yaml", "endpoints/flan-t5-base.yaml"):
        first = files[name].splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=")
        target = (repo / name).parent / first.split("$schema=", 1)[1]
        assert target.resolve().is_file(), first
    assert json.loads(files["schemas/endpoint.schema.json"]) == endpoint_schema()
    # The workflows are the Action's templates, byte for byte.
    for name in WORKFLOWS:
        if name != "provisioner-schedule.yml":
            expected = SCAFFOLD.joinpath("workflows", name).read_text()
            assert files[f".github/workflows/{name}"] == expected
    hooks = yaml.safe_load(files[".pre-commit-config.yaml"])["repos"][0]
    assert hooks == {
        "repo": f"https://github.com/{REPOSITORY}",
        "rev": f"v{__version__}",
        "hooks": [{"id": "provisioner-validate"}],
    }
    assert "/.provisioner/" in files[".gitignore"].splitlines()

    validated = cli("validate")
    assert validated.code == 0, validated.text
    assert validated.err == ""  # not even a warning
    assert "1 endpoint spec valid (stack 'ml-platform')" in validated.out


def test_the_schedule_workflow_only_when_asked(repo: Path, cli: Cli) -> None:
    assert cli("init", "--schedules").code == 0
    assert (repo / ".github" / "workflows" / "provisioner-schedule.yml").is_file()


def test_init_then_plan_and_apply_against_the_emulator(
    repo: Path, cli: Cli, emulator: Emulator
) -> None:
    assert cli("init", "--namespace", "acme").code == 0
    ctx = context_for(emulator)
    planned = cli("plan", "--detailed-exitcode", ctx=ctx)
    assert planned.code == 2, planned.text
    assert "+ acme/flan-t5-base" in planned.out
    applied = cli("apply", "--auto-approve", ctx=ctx)
    assert applied.code == 0, applied.text
    assert cli("plan", "--detailed-exitcode", ctx=ctx).code == 0


def test_a_second_init_keeps_every_file_and_says_so(repo: Path, cli: Cli) -> None:
    assert cli("init").code == 0
    (repo / "endpoints" / "flan-t5-base.yaml").write_text("# mine\n")
    before = _files(repo)
    again = cli("init", "--namespace", "other", "--stack", "other")
    assert again.code == 0, again.text
    assert _files(repo) == before
    assert "nothing to write" in again.out
    assert "  kept     endpoints/flan-t5-base.yaml (exists)\n" in again.out


def test_in_an_existing_repository_its_files_and_its_stack_are_kept(repo: Path, cli: Cli) -> None:
    (repo / ".gitignore").write_text("node_modules/\n")
    specs = repo / "endpoints"
    specs.mkdir()
    (specs / "chat.yaml").write_text(
        "name: chat\n"
        "model: {repository: openai-community/gpt2, task: text-generation}\n"
        "compute: {vendor: aws, region: us-east-1, accelerator: cpu, instance_type: intel-spr,"
        " instance_size: x2}\n"
    )
    done = cli("init")
    assert done.code == 0, done.text
    assert (repo / ".gitignore").read_text() == "node_modules/\n"
    # What to add by hand, since the file is not rewritten.
    assert "kept     .gitignore (exists)" in done.out and "/.provisioner/" in done.out
    # A stack of specs without settings was named after its folder: the settings keep it.
    assert yaml.safe_load((specs / "_settings.yaml").read_text())["stack"] == "endpoints"
    assert not (specs / "flan-t5-base.yaml").exists()
    assert "skipped  endpoints/flan-t5-base.yaml (endpoints/ holds specs already)" in done.out
    validated = cli("validate")
    assert validated.code == 0, validated.text
    assert "(stack 'endpoints')" in validated.out


def test_the_next_steps_work_as_printed_from_another_folder(repo: Path, cli: Cli) -> None:
    done = cli("init", "team-specs")
    assert done.code == 0, done.text
    step = next(line for line in done.out.splitlines() if "provisioner validate" in line)
    command = step.split("#")[0].split()
    assert command == ["provisioner", "validate", "--dir", "team-specs/endpoints"]
    validated = cli(*command[1:])
    assert validated.code == 0, validated.text
    # A folder inside the repository: GitHub and pre-commit would not find what init wrote.
    assert "warning: team-specs is inside the git repository .: GitHub runs only" in done.err


def test_at_the_repository_s_root_there_is_nothing_to_warn_of(repo: Path, cli: Cli) -> None:
    done = cli("init")
    assert (done.code, done.err) == (0, "")


def test_the_next_steps_are_quoted_for_a_folder_with_a_space(repo: Path, cli: Cli) -> None:
    """Pasted into a shell, `--dir "Team Specs/endpoints"` is one argument, not two."""
    done = cli("init", "Team Specs")
    assert done.code == 0, done.text
    for verb in ("validate", "plan", "apply"):
        step = next(line for line in done.out.splitlines() if f"provisioner {verb}" in line)
        command = shlex.split(step, comments=True)
        assert command == ["provisioner", verb, "--dir", "Team Specs/endpoints"], step
    validated = cli(*shlex.split(step.replace("apply", "validate"), comments=True)[1:])
    assert validated.code == 0, validated.text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "ML Platform"], "Invalid value for --stack: 'ML Platform' is not 1 to 40"),
        (["--namespace", "-acme"], "Invalid value for --namespace: '-acme' is not the name"),
        (["--backend", "gs://bucket"], "'gs://bucket' is not a backend"),
    ],
)
def test_a_bad_option_writes_nothing(repo: Path, cli: Cli, args: list[str], message: str) -> None:
    done = cli("init", *args)
    assert done.code == 1
    assert message in done.err
    assert _files(repo) == {}


def test_dir_that_is_a_file_is_one_clear_error(repo: Path, cli: Cli) -> None:
    (repo / "notes.txt").write_text("x")
    done = cli("init", "notes.txt")
    assert (done.code, done.err.strip()) == (1, "error: notes.txt is a file, not a folder")


def test_a_dir_that_cannot_be_written_is_one_clear_error(repo: Path, cli: Cli) -> None:
    """A folder that cannot be made (here: below a file; as root, permissions would not stop
    it) is one line naming the file, and what was written before it."""
    (repo / "notes.txt").write_text("x")
    done = cli("init", "notes.txt/specs")
    assert done.code == 1
    assert done.err.splitlines() == [
        "error: cannot write notes.txt/specs/endpoints/_settings.yaml: Not a directory",
        "written so far: nothing",
    ]


def test_specs_imported_after_init_point_their_modeline_at_its_schema(
    repo: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "legacy")
    assert cli("init", "--namespace", "acme").code == 0
    imported = cli("import", "legacy", ctx=context_for(emulator))
    assert imported.code == 0, imported.text
    first = (repo / "endpoints" / "legacy.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/endpoint.schema.json"


def test_settings_named_yml_are_the_settings_and_no_second_file_is_written(
    repo: Path, cli: Cli
) -> None:
    specs = repo / "endpoints"
    specs.mkdir()
    (specs / "_settings.yml").write_text("stack: team\n")
    done = cli("init")
    assert done.code == 0, done.text
    assert not (specs / "_settings.yaml").exists()
    assert "  kept     endpoints/_settings.yml (exists)\n" in done.out
    validated = cli("validate")
    assert validated.code == 0, validated.text
    assert "(stack 'team')" in validated.out
