"""Planner golden cases as data: read `case.yaml`, write the specs, capture `live.json`.

A case folder (`tests/cases/plan/<case>/`) holds `case.yaml` and the outputs `live.json`,
`plan.json`, `plan.txt`; `tests/README.md` documents the keys. The capture builds `live.json` the
way a user's world comes to be: the emulator (in process, time frozen, fixed epoch) receives the
case's `before` specs through the real `provisioner apply`, then the case's `outside` changes
through the real huggingface_hub client (as `hf endpoints ...` would send them) and the emulator's
admin faults, and finally the raw `GET /v2/endpoint/{ns}` listing is written down, with what the
Hub's model info (`GET /api/models/{repo}[/revision/{rev}]`) answers for each planned spec's
repository and revision (`models`: the commits the plan resolves, or the Hub's error).

This module only uses public entry points (the CLI's `main` with an injected `Context`, the client,
the emulator's API), so refactors below the CLI do not touch it. It must stay deterministic: the
same case gives the same bytes on every run (`--parallelism 1`, frozen clock, fixed epoch, listing
URLs built for a fixed host).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from huggingface_hub import HfApi

from provisioner.cli.context import Context
from provisioner.cli.main import main
from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.hub.models import Commit
from provisioner.spec.model import EndpointSpec
from provisioner.spec.stack import load_stack
from tests.support import FIXED_NOW

ROOT = Path(__file__).resolve().parents[1] / "cases" / "plan"
EXAMPLES = Path(__file__).resolve().parents[2] / "endpoints"
# Wall-clock origin of the captures (`createdAt` ...): any fixed instant keeps them stable.
EPOCH = datetime(2026, 11, 27, 16, 43, 30, tzinfo=UTC)
# `status.url` is built from the request's Host header: list through the default port of
# `provisioner emulator`, not the random port of the in-process one.
LISTED_HOST = "127.0.0.1:8790"
TOKEN, TOKEN_USER = "hf_demo", "demo"
# Secrets the example specs read from the environment of `apply`.
SECRETS = {"SUPPORT_ASSISTANT_API_KEY": "capture-secret", "LLM_HUB_TOKEN": "capture-token"}
# The instant schedules are evaluated at, in every apply a capture runs and every case's plan
# (a case may set its own `options: {now: ...}`).
CASE_NOW = FIXED_NOW
# An endpoint made by hand (`create` in `outside`): what the client needs beyond the name.
BY_HAND: dict[str, Any] = {
    "repository": "gpt2",
    "framework": "pytorch",
    "task": "text-generation",
    "accelerator": "cpu",
    "instance_type": "intel-spr",
    "instance_size": "x2",
    "vendor": "aws",
    "region": "us-east-1",
}
CASE_KEYS = {"about", "specs", "edits", "files", "before", "world", "outside", "options"}
SPEC_KEYS = {"specs", "edits", "files"}


class CaseError(ValueError):
    """A `case.yaml` that does not say what to do."""


@dataclass(frozen=True)
class Specs:
    """A spec folder: `specs` (a folder relative to the case, or `examples` for the repository's
    `endpoints/`), then `files` written into it and text `edits` applied to it."""

    base: Path | None
    files: Mapping[str, Any] = field(default_factory=dict)
    edits: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    path: Path
    specs: Specs
    before: tuple[Specs, ...]
    outside: tuple[Mapping[str, Any], ...]
    options: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.path.name


def _specs(case_dir: Path, data: Mapping[str, Any], *, default: str | None) -> Specs:
    unknown = set(data) - SPEC_KEYS
    if unknown:
        raise CaseError(f"{case_dir.name}: unknown spec keys {sorted(unknown)}")
    where = data.get("specs", default)
    base = None if where is None else EXAMPLES if where == "examples" else case_dir / where
    if base is not None and not base.is_dir():
        raise CaseError(f"{case_dir.name}: no spec folder {base}")
    return Specs(base, dict(data.get("files") or {}), dict(data.get("edits") or {}))


def load_case(path: Path) -> Case:
    data = yaml.safe_load((path / "case.yaml").read_text()) or {}
    unknown = set(data) - CASE_KEYS
    if unknown:
        raise CaseError(f"{path.name}: unknown keys {sorted(unknown)} in case.yaml")
    world = data
    if "world" in data:  # the live world of another case: its `before` and `outside`
        if {"before", "outside"} & set(data):
            raise CaseError(f"{path.name}: `world` replaces `before` and `outside`, not both")
        world = yaml.safe_load((path / data["world"] / "case.yaml").read_text())
        path_of_world = path / data["world"]
    else:
        path_of_world = path
    return Case(
        path=path,
        specs=_specs(path, {k: data[k] for k in SPEC_KEYS if k in data}, default="endpoints"),
        before=tuple(
            _specs(path_of_world, step, default=None) for step in world.get("before") or ()
        ),
        outside=tuple(world.get("outside") or ()),
        options=dict(data.get("options") or {}),
    )


def _edit(text: str, edit: Mapping[str, Any], where: str) -> str:
    """Text edits keep every other line (and so the `file:line:col` of each spec) as it was."""
    unknown = set(edit) - {"replace", "append"}
    if unknown:
        raise CaseError(f"{where}: unknown edit keys {sorted(unknown)}")
    for old, new in (edit.get("replace") or {}).items():
        if text.count(old) != 1:
            raise CaseError(f"{where}: {old!r} occurs {text.count(old)} times, not once")
        text = text.replace(old, new)
    return text + (edit.get("append") or "")


def write_specs(specs: Specs, target: Path) -> Path:
    """Write the spec folder `specs` describes at `target` (created; must not exist)."""
    if specs.base is not None:
        shutil.copytree(specs.base, target)
    else:
        target.mkdir(parents=True)
    for name, content in specs.files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)
    for name, edit in specs.edits.items():
        path = target / name
        if edit is None:
            path.unlink()
        else:
            path.write_text(_edit(path.read_text(), edit, f"{target.name}/{name}"))
    return target


def _context(emu: Emulator) -> Context:
    return Context(
        environ={
            "HF_TOKEN": TOKEN,
            "PROVISIONER_API_URL": emu.url,
            "PROVISIONER_NOW": CASE_NOW,
            **SECRETS,
        },
        sleep=emu.advance,
        clock=emu.now,
        rng=random.Random(0),
        is_tty=lambda: False,
        stdin_is_tty=lambda: False,
    )


def _apply(emu: Emulator, directory: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            args = ["apply", "--dir", str(directory), "--auto-approve", "--parallelism", "1"]
            main(args, context=_context(emu))
            code: object = 0
        except SystemExit as exc:
            code = exc.code
    if code not in (0, None):
        raise AssertionError(f"`provisioner apply` of {directory} failed:\n{out.getvalue()}")


def _outside(emu: Emulator, api: HfApi, change: Mapping[str, Any], namespace: str) -> None:
    """One change made outside provisioner (see tests/README.md for the list)."""
    (kind, value), *rest = change.items()
    extra = dict(rest)
    namespace = extra.pop("namespace", namespace)
    if kind == "wait":  # emulated seconds: due transitions (idle scale-to-zero ...) happen
        emu.advance(float(value))
    elif kind == "update":  # `hf endpoints update NAME --...`: a sparse PUT
        api.update_inference_endpoint(value, namespace=namespace, **extra)
    elif kind == "pause":
        api.pause_inference_endpoint(value, namespace=namespace)
    elif kind == "resume":
        api.resume_inference_endpoint(value, namespace=namespace)
    elif kind == "scale-to-zero":
        api.scale_to_zero_inference_endpoint(value, namespace=namespace)
    elif kind == "delete":
        api.delete_inference_endpoint(value, namespace=namespace)
    elif kind == "create":  # by hand: no ownership tags unless given
        api.create_inference_endpoint(value, namespace=namespace, **{**BY_HAND, **extra})
    elif kind == "move-branch":  # a push to the model repository: `branch` (default main) moves
        emu.move_branch(value, extra.get("branch", "main"))
    elif kind in ("fail-next-deploy", "fail-next-update"):  # scripted through the admin API
        fault = "fail_deploy" if kind == "fail-next-deploy" else "fail_update"
        emu.add_fault({"kind": fault, "namespace": namespace, "name": value, **extra})
    else:
        raise CaseError(f"unknown outside change {kind!r}")


def _get(emu: Emulator, path: str) -> Any:
    request = urllib.request.Request(
        f"{emu.url}{path}",
        headers={"Authorization": f"Bearer {TOKEN}", "Host": LISTED_HOST},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def model_key(repository: str, revision: str | None) -> str:
    """`models` key of a (repository, revision): `gpt2` (default branch) or `gpt2@v1.0`."""
    return repository if revision is None else f"{repository}@{revision}"


def _models(emu: Emulator, specs: list[EndpointSpec]) -> dict[str, Any]:
    """Model info per planned (repository, revision): `{"sha"}`, or `{"status", "error"}` (the
    Hub's `X-Error-Code`)."""
    found: dict[str, Any] = {}
    for spec in specs:
        repository, revision = spec.model.repository, spec.model.revision
        path = f"/api/models/{repository}"
        if revision is not None:
            path += f"/revision/{quote(revision, safe='')}"
        try:
            info = {"sha": _get(emu, path)["sha"]}
        except urllib.error.HTTPError as error:
            info = {"status": error.code, "error": error.headers.get("X-Error-Code")}
        found[model_key(repository, revision)] = info
    return found


def capture(case: Case, emu: Emulator, api: HfApi, work: Path) -> dict[str, Any]:
    """Apply `before`, make the `outside` changes (in the planned stack's default namespace
    unless one says `namespace:`), and return the listing of every namespace the plan reads."""
    stack, diagnostics = load_stack(write_specs(case.specs, work / "planned"))
    if diagnostics.has_errors:
        raise CaseError(f"{case.name}: the planned specs are invalid: {list(diagnostics)}")
    default = stack.default_namespace(TOKEN_USER)
    planned = {default} | {s.namespace for s in stack.resolved_specs(TOKEN_USER) if s.namespace}
    for index, step in enumerate(case.before):
        _apply(emu, write_specs(step, work / f"before-{index}"))
    for change in case.outside:
        _outside(emu, api, change, default)
    return {
        "namespaces": {
            namespace: {"endpoints": _get(emu, f"/v2/endpoint/{namespace}")}
            for namespace in sorted(planned)
        },
        "models": _models(emu, stack.resolved_specs(TOKEN_USER)),
    }


def commits_from(live: Mapping[str, Any]) -> dict[tuple[str, str | None], Commit]:
    """The `models` of a `live.json` as the commits `plan_stack` resolves."""
    commits: dict[tuple[str, str | None], Commit] = {}
    for key, info in (live.get("models") or {}).items():
        repository, _, revision = key.partition("@")
        if "sha" in info:
            found = Commit(sha=info["sha"])
        else:
            problem = f"{info['status']} {info['error']}"
            found = Commit(problem=problem, unknown_revision=info["error"] == "RevisionNotFound")
        commits[(repository, revision or None)] = found
    return commits


def provider_listing(emu: Emulator, namespace: str = "acme") -> dict[str, Any]:
    """`GET /v2/provider/{ns}`: the hardware every case plans against (`provider.json`)."""
    listing: dict[str, Any] = _get(emu, f"/v2/provider/{namespace}")
    return listing


def dumps_json(live: Mapping[str, Any]) -> str:
    return json.dumps(live, indent=2, sort_keys=True) + "\n"


def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(speed=0.0, epoch=EPOCH)
