"""The Action keeps provisioner's caches between CI runs (action.yml's "Locate the spec cache"
and "Restore the spec cache" steps): what it caches is where provisioner, given that step's
environment, writes its key, its compiled schemas and its spec cache; a next runner that
restores only those paths has entries provisioner trusts (and without the key, it says the cache
is foreign); the key follows every spec file.

The locating step's script is run as the runner runs it (bash, its outputs in a file), and
`${{ steps.spec-cache.outputs.* }}` in action.yml is replaced by what it wrote."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.action.inputs import read_inputs
from provisioner.emulator import Emulator
from provisioner.spec import cache
from provisioner.spec.diagnostics import Diagnostics
from provisioner.spec.discover import yaml_files
from tests.action.conftest import Run, read_outputs
from tests.reconcile.helpers import write_spec

ACTION = Path(__file__).resolve().parents[2] / "action.yml"
_OUTPUT = re.compile(r"\$\{\{ steps\.spec-cache\.outputs\.([a-z-]+) \}\}")


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    return steps


def _step(name: str) -> dict[str, Any]:
    (step,) = [s for s in _steps() if s.get("name") == name or s.get("id") == name]
    return step


def locate(
    workspace: Path,
    runner_temp: Path,
    *,
    directory: str = "endpoints",
    root: str = "",
    runner_os: str = "Linux",
    digest: str = "0123456789abcdef",
    spec_cache: str | None = None,
) -> dict[str, str]:
    """The outputs of the step that locates the spec cache, run as the runner would."""
    runner_temp.mkdir(exist_ok=True)
    output = runner_temp / f"locate-output-{len(list(runner_temp.glob('locate-output-*')))}"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(workspace / "home"),
        "HF_HOME": str(workspace / "hf-home"),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": runner_os,
        "INPUT_DIR": directory,
        "INPUT_ROOT": root,
        "DIGEST": digest,
    }
    if spec_cache is not None:  # the workflow's own `env:`
        env["PROVISIONER_SPEC_CACHE"] = spec_cache
    script = _step("spec-cache")["run"]
    done = subprocess.run(
        ["bash", "-c", script], env=env, cwd=workspace, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return read_outputs(output)


def _resolve(text: str, outputs: Mapping[str, str]) -> str:
    return _OUTPUT.sub(lambda found: outputs[found[1]], text)


def cached_paths(outputs: Mapping[str, str]) -> list[str]:
    """The `path:` lines of the cache step, as actions/cache receives them."""
    paths = _step("Restore the spec cache")["with"]["path"]
    return [_resolve(line, outputs) for line in paths.splitlines() if line.strip()]


def provisioner_env(outputs: Mapping[str, str]) -> dict[str, str]:
    """What the provisioner step's `env:` takes from the locating step."""
    env = _step("run")["env"]
    return {k: _resolve(v, outputs) for k, v in env.items() if _OUTPUT.fullmatch(v)}


def _matches(pattern: str) -> list[Path]:
    """What actions/cache takes for a `path:` line: the path, or what the glob matches."""
    if "*" not in pattern:
        return [Path(pattern)]
    return sorted(Path("/").glob(pattern.lstrip("/")))


def _is_cached(path: Path, cached: list[str]) -> bool:
    return any(path == m or m in path.parents for c in cached for m in _matches(c))


def _written(folder: Path) -> dict[Path, tuple[int, int]]:
    """Every file below `folder`, with its inode and mtime: a file rewritten (written aside and
    renamed, as provisioner's caches are) has another inode."""
    return {
        p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.mark.slow  # starts the action (and the CLI) three times
def test_a_next_runner_restoring_only_the_cached_paths_trusts_what_it_finds(
    tmp_path: Path, emulator: Emulator, run_action: Run
) -> None:
    (tmp_path / ".git").mkdir()  # the workspace is the checkout
    write_spec(tmp_path / "endpoints", "chat", namespace="acme")
    runner_temp = tmp_path / "runner-temp"
    outputs = locate(tmp_path, runner_temp)
    env = provisioner_env(outputs)
    assert set(env) == {"PROVISIONER_SPEC_CACHE", "XDG_STATE_HOME", "XDG_CACHE_HOME", "HF_HOME"}
    # huggingface_hub's folder (a token saved by `hf auth login`) stays where it was.
    assert env["HF_HOME"] == str(tmp_path / "hf-home")
    cached = cached_paths(outputs)
    state_home, cache_home = Path(env["XDG_STATE_HOME"]), Path(env["XDG_CACHE_HOME"])
    spec_cache = Path(env["PROVISIONER_SPEC_CACHE"])
    for folder in (state_home, cache_home, spec_cache):
        assert runner_temp in folder.parents  # outside the checkout, on every runner

    first = run_action(emulator, command="validate", env=env)
    assert first.code == 0, first.log

    # provisioner's key and compiled schemas are where it looks with that environment, and
    # inside what is cached; the debug log beside the key is not cached (a pull request's run
    # can restore main's entries).
    key = state_home / "provisioner" / "cache.key"
    assert key.is_file() and _is_cached(key, cached)
    schemas = sorted((cache_home / "provisioner" / "validators").glob("*.bin"))
    assert schemas and all(_is_cached(p, cached) for p in schemas)
    assert not _is_cached(state_home / "provisioner" / "debug.log", cached)
    specs = sorted(spec_cache.glob("specs-*.bin"))
    assert len(specs) == 1 and _is_cached(specs[0], cached)
    assert not (tmp_path / ".provisioner" / "cache").exists()  # nothing in the checkout
    kept = [p for p in _written(runner_temp) if _is_cached(p, cached)]
    assert key in kept and set(schemas) <= set(kept) and specs[0] in kept

    # A fresh runner: only what actions/cache saved, restored.
    saved = {path: path.read_bytes() for path in kept}
    for home in (state_home, cache_home):
        shutil.rmtree(home)
    for path, content in saved.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    restored = _written(runner_temp)

    second = run_action(emulator, command="validate", env=env)
    assert second.code == 0, second.log
    assert "spec cache ignored" not in second.log
    # Trusted, so used as they are: nothing compiled again, nothing rewritten.
    assert {p: restored[p] for p in kept} == {p: _written(runner_temp)[p] for p in kept}

    # Without the key (as if it were not cached), the same entries are foreign: compiled again.
    key.unlink()
    third = run_action(emulator, command="validate", env=env)
    assert third.code == 0, third.log
    assert "spec cache ignored: it is damaged or was written with another key" in third.log
    after = _written(runner_temp)
    assert key.is_file() and key.read_bytes() != saved[key]
    assert all(after[p] != restored[p] for p in [*schemas, *specs])


@pytest.mark.parametrize(
    ("chosen", "given", "cached"),
    [
        (None, "{temp}/provisioner-home/specs", "{temp}/provisioner-home/specs"),
        ("on", "{temp}/provisioner-home/specs", "{temp}/provisioner-home/specs"),
        ("off", "off", None),  # the workflow turned it off: it stays off
        (" OFF ", "OFF", None),
        ("ci-cache/specs", "ci-cache/specs", "{workspace}/ci-cache/specs"),
        ("{workspace}/elsewhere", "{workspace}/elsewhere", "{workspace}/elsewhere"),
    ],
)
def test_the_spec_cache_is_where_the_workflow_s_own_setting_puts_it_and_that_is_cached(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    chosen: str | None,
    given: str,
    cached: str | None,
) -> None:
    workspace, temp = tmp_path / "workspace", tmp_path / "runner-temp"
    (workspace / "endpoints").mkdir(parents=True)
    names = {"workspace": str(workspace), "temp": str(temp)}
    outputs = locate(workspace, temp, spec_cache=None if chosen is None else chosen.format(**names))
    env = provisioner_env(outputs)
    assert env["PROVISIONER_SPEC_CACHE"] == given.format(**names)

    # Where provisioner puts the stack's cache file with that value, from the step's working
    # folder (the workspace), is inside the first cached path, or nowhere when it is off.
    monkeypatch.chdir(workspace)
    spec_dir = (
        workspace / read_inputs({"INPUT_COMMAND": "plan", "INPUT_DIR": "endpoints"}).directory
    )
    (first, *_) = cached_paths(outputs)
    if cached is None:
        assert not cache.enabled(env)
    else:
        assert cache.enabled(env)
        assert cache.location(spec_dir, env).parent == Path(first) == Path(cached.format(**names))


def test_the_key_covers_every_spec_file_and_restores_the_same_tree_s_latest(
    tmp_path: Path,
) -> None:
    step = _step("Restore the spec cache")["with"]
    prefix = "${{ steps.spec-cache.outputs.key-prefix }}"
    patterns = ("{0}/**/*.yaml", "{0}/**/*.yml")
    tree = "steps.spec-cache.outputs.tree"
    hashed = ", ".join(f"format('{p}', {tree})" for p in patterns)
    assert step["key"] == f"{prefix}${{{{ hashFiles({hashed}) }}}}"
    # A changed tree restores the latest entry of the same tree, OS and provisioner release.
    assert step["restore-keys"] == prefix

    # The patterns, as hashFiles matches them from the workspace, hold every file provisioner
    # reads from the spec folder: any edit to a spec changes the key.
    workspace = tmp_path / "workspace"
    shutil.copytree(Path(__file__).resolve().parents[2] / "endpoints", workspace / "endpoints")
    write_spec(workspace / "endpoints" / "dev", "extra", namespace="acme")
    (workspace / "endpoints" / "dev" / "extra.yaml").rename(
        workspace / "endpoints" / "dev" / "extra.yml"
    )
    outputs = locate(workspace, tmp_path / "runner-temp")
    hashed_files = {
        path
        for pattern in patterns
        for path in workspace.glob(pattern.format(outputs["tree"]))
        if path.is_file()
    }
    read = yaml_files(workspace / "endpoints", Diagnostics())
    assert len(read) >= 5 and workspace / "endpoints" / "dev" / "extra.yml" in read
    assert set(read) <= hashed_files

    # The prefix: one per OS, provisioner requirement (and Python) and tree; the same again.
    again = locate(workspace, tmp_path / "runner-temp")["key-prefix"]
    assert again == outputs["key-prefix"] and again.startswith("provisioner-spec-cache-Linux-")
    (workspace / "stacks").mkdir()
    others = [
        locate(workspace, tmp_path / "runner-temp", runner_os="macOS")["key-prefix"],
        locate(workspace, tmp_path / "runner-temp", digest="fedcba9876543210")["key-prefix"],
        locate(workspace, tmp_path / "runner-temp", root="stacks")["key-prefix"],
    ]
    assert len({again, *others}) == 4
    assert all(p.endswith("-") for p in (again, *others))
