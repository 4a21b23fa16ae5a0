"""The action's inputs and the runner's context, read once from the environment.

`action.yml` passes every input as an `INPUT_*` variable (never by interpolating `${{ inputs.* }}`
into a script); the runner provides `GITHUB_*` and `RUNNER_TEMP`. This module turns both into two
frozen values and refuses bad input with a sentence a person can act on. It prints nothing: in
particular an error about the `secrets` JSON names the key, never a value.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COMMANDS = ("plan", "apply", "drift", "validate", "record-secrets")

# Names of environment variables a `from_env` secret can have. Variables the runner, the action or
# provisioner itself read are refused as keys, so the JSON cannot redirect them (a secret named
# PROVISIONER_API_URL or PATH would change where the CLI talks or what it runs).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_RESERVED_PREFIXES = ("GITHUB_", "RUNNER_", "INPUT_", "ACTIONS_", "PROVISIONER_", "HF_", "PYTHON")
_RESERVED = frozenset({"PATH", "HOME", "SHELL", "TMPDIR", "LD_PRELOAD", "LD_LIBRARY_PATH", "CI"})


class InputError(Exception):
    """An input the action cannot use: the message says which and what would be accepted."""


@dataclass(frozen=True)
class Inputs:
    """What the workflow asked for (`with:` in the workflow, via action.yml's `env:`)."""

    command: str
    directory: str
    hf_token: str = field(repr=False)
    secrets: Mapping[str, str] = field(repr=False)
    github_token: str = field(repr=False)
    comment: bool
    comment_author: str
    # apply on a push: only the changes the merged pull request's plan comment showed.
    require_review: bool
    backend: str
    api_url: str
    args: tuple[str, ...]
    # A folder of several stacks (each folder with `_settings.yaml`): every command runs over
    # each of them, and a plan keeps one comment with a section per stack. Empty: `directory`.
    root: str = ""


@dataclass(frozen=True)
class Runner:
    """The job the action runs in (the runner's own variables)."""

    output_file: Path | None
    summary_file: Path | None
    event_name: str
    event: Mapping[str, Any]
    repository: str
    server_url: str
    api_url: str
    run_id: str
    sha: str
    ref_name: str
    temp: Path
    debug: bool

    @property
    def run_url(self) -> str:
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


def parse_secrets(text: str) -> dict[str, str]:
    """The `secrets` input: a JSON object of environment variable names to string values."""
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        # The error's position only, never the document (it holds the values).
        raise InputError(
            f"the `secrets` input is not valid JSON (line {error.lineno}, column {error.colno}): "
            'it must be one object, e.g. {"SUPPORT_ASSISTANT_API_KEY": "..."}'
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            'the `secrets` input must be a JSON object of NAME: "value", e.g. '
            '{"SUPPORT_ASSISTANT_API_KEY": "..."}'
        )
    problems: list[str] = []
    for name, value in data.items():
        if not _NAME.match(name):
            problems.append(f"{name!r} is not an environment variable name")
        elif name.upper() in _RESERVED or name.upper().startswith(_RESERVED_PREFIXES):
            problems.append(
                f"{name} is reserved (the runner, the action or provisioner reads it); "
                "name the secret differently in the spec's `from_env` and here"
            )
        elif not isinstance(value, str):
            problems.append(f"the value of {name} must be a string")
    if problems:
        raise InputError("the `secrets` input: " + "; ".join(problems))
    return {str(name): str(value) for name, value in data.items()}


def read_inputs(environ: Mapping[str, str]) -> Inputs:
    """The inputs, checked; `secrets` must already have been parsed (and masked) by the caller."""
    command = environ.get("INPUT_COMMAND", "").strip()
    if command not in COMMANDS:
        raise InputError(
            f"the `command` input must be one of {', '.join(COMMANDS)}; got {command!r}"
        )
    directory = environ.get("INPUT_DIR", "").strip() or "endpoints"
    comment = environ.get("INPUT_COMMENT", "true").strip().lower()
    if comment not in ("true", "false"):
        raise InputError(f"the `comment` input must be true or false; got {comment!r}")
    review = environ.get("INPUT_REQUIRE_REVIEW", "true").strip().lower()
    if review not in ("true", "false"):
        raise InputError(f"the `require-review` input must be true or false; got {review!r}")
    try:
        args = tuple(shlex.split(environ.get("INPUT_ARGS", "")))
    except ValueError as error:
        raise InputError(f"the `args` input cannot be split into arguments: {error}") from None
    return Inputs(
        command=command,
        directory=directory,
        hf_token=environ.get("INPUT_HF_TOKEN", "").strip(),
        secrets=parse_secrets(environ.get("INPUT_SECRETS", "")),
        github_token=environ.get("INPUT_GITHUB_TOKEN", "").strip(),
        comment=comment == "true",
        comment_author=environ.get("INPUT_COMMENT_AUTHOR", "").strip() or "github-actions[bot]",
        require_review=review == "true",
        backend=environ.get("INPUT_BACKEND", "").strip(),
        api_url=environ.get("INPUT_API_URL", "").strip(),
        args=args,
        root=environ.get("INPUT_ROOT", "").strip().rstrip("/"),
    )


def read_runner(environ: Mapping[str, str]) -> Runner:
    """The runner's context; outside a runner (a local try-out) the files are simply absent."""
    event: Mapping[str, Any] = {}
    event_path = environ.get("GITHUB_EVENT_PATH", "")
    if event_path:
        try:
            loaded = json.loads(Path(event_path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"cannot read the event payload {event_path}: {error}") from None
        event = loaded if isinstance(loaded, dict) else {}

    def path(name: str) -> Path | None:
        value = environ.get(name, "")
        return Path(value) if value else None

    temp = path("RUNNER_TEMP") or Path(environ.get("TMPDIR", "/tmp"))
    return Runner(
        output_file=path("GITHUB_OUTPUT"),
        summary_file=path("GITHUB_STEP_SUMMARY"),
        event_name=environ.get("GITHUB_EVENT_NAME", ""),
        event=event,
        repository=environ.get("GITHUB_REPOSITORY", ""),
        server_url=environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"),
        api_url=environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"),
        run_id=environ.get("GITHUB_RUN_ID", ""),
        sha=environ.get("GITHUB_SHA", ""),
        ref_name=environ.get("GITHUB_REF_NAME", ""),
        temp=temp,
        debug=environ.get("RUNNER_DEBUG", "") == "1",
    )


def pull_request(runner: Runner) -> Mapping[str, Any] | None:
    """The event's pull request, for `pull_request` (and `pull_request_target`) events."""
    if runner.event_name not in ("pull_request", "pull_request_target"):
        return None
    found = runner.event.get("pull_request")
    return found if isinstance(found, dict) else None


def from_fork(pr: Mapping[str, Any]) -> bool:
    """A pull request whose head is another repository (a deleted fork's head repo is null)."""
    head = (pr.get("head") or {}).get("repo") or {}
    base = (pr.get("base") or {}).get("repo") or {}
    return not head or head.get("full_name") != base.get("full_name")
