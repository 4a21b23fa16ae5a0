"""Talking to the runner: workflow commands (`::add-mask::`, `::error::`, groups), step outputs
(`$GITHUB_OUTPUT`), the job summary (`$GITHUB_STEP_SUMMARY`), and running the CLI.

The CLI runs as a subprocess, the `provisioner` console script installed beside this Python, with
an environment built here: the runner's, minus the action's own inputs (the GitHub token and the
`secrets` JSON never reach it), plus the HF token and one variable per secret.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from provisioner.action.inputs import Inputs

# A job summary holds at most 1 MiB per step; stay well below it.
SUMMARY_LIMIT = 900_000


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: str) -> str:
    """One workflow command line, escaped as the runner unescapes it."""
    props = ",".join(f"{key}={_escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{_escape_data(message)}"


class Workflow:
    """What the action writes for the runner: log lines, annotations, outputs, the summary."""

    def __init__(
        self,
        *,
        output_file: Path | None,
        summary_file: Path | None,
        out: IO[str] | None = None,
    ) -> None:
        self._output_file = output_file
        self._summary_file = summary_file
        self._out = out or sys.stdout

    def log(self, line: str = "") -> None:
        print(line, file=self._out, flush=True)

    def mask(self, value: str) -> None:
        """Every line of a multi-line value too: the runner masks each registered line."""
        for part in {value, *value.splitlines()}:
            if part.strip():
                self.log(command("add-mask", part))

    def notice(self, message: str, title: str) -> None:
        self.log(command("notice", message, title=title))

    def warning(self, message: str, title: str) -> None:
        self.log(command("warning", message, title=title))

    def error(self, message: str, title: str) -> None:
        self.log(command("error", message, title=title))

    def group(self, title: str, text: str) -> None:
        self.log(command("group", title))
        self._out.write(text if text.endswith("\n") or not text else text + "\n")
        self.log(command("endgroup"))

    def outputs(self, values: Mapping[str, str]) -> None:
        if self._output_file is None:
            for name, value in values.items():
                self.log(f"output {name}={value}")
            return
        with self._output_file.open("a", encoding="utf-8") as file:
            for name, value in values.items():
                # The multi-line form, with a delimiter no value can contain.
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
                file.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def summary(self, markdown: str) -> None:
        if self._summary_file is None:
            return
        if len(markdown) > SUMMARY_LIMIT:
            markdown = markdown[:SUMMARY_LIMIT] + "\n\n_(cut: the job log has the rest)_\n"
        with self._summary_file.open("a", encoding="utf-8") as file:
            file.write(markdown if markdown.endswith("\n") else markdown + "\n")


@dataclass(frozen=True)
class Completed:
    code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        """Everything it printed, the log after the output."""
        return self.stdout + self.stderr


def cli_environment(environ: Mapping[str, str], inputs: Inputs) -> dict[str, str]:
    """The CLI's environment: the job's, without the action's inputs, with the token, the
    backend, the API URL and the secrets the workflow gave."""
    env = {name: value for name, value in environ.items() if not name.startswith("INPUT_")}
    if inputs.hf_token:
        env["HF_TOKEN"] = inputs.hf_token
    if inputs.backend:
        env["PROVISIONER_BACKEND"] = inputs.backend
    if inputs.api_url:
        env["PROVISIONER_API_URL"] = inputs.api_url
    env.update(inputs.secrets)
    # Their names (never values): an apply-side run records them in the state, so that a pull
    # request's plan, given no values, knows which secrets apply will find.
    env["PROVISIONER_SECRET_NAMES"] = ",".join(sorted(inputs.secrets))
    # The CI log is not a terminal; plain lines, no colour codes.
    env.setdefault("NO_COLOR", "1")
    return env


def provisioner_command() -> list[str]:
    """The console script installed with this Python (the action's virtualenv), else the same
    Python's `-m provisioner`."""
    beside = Path(sys.executable).parent / "provisioner"
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "provisioner"]


def _pump(source: IO[str], sink: IO[str] | None, into: list[str]) -> None:
    for line in iter(source.readline, ""):
        into.append(line)
        if sink is not None:
            sink.write(line)
            sink.flush()


def run_cli(
    args: list[str],
    *,
    env: Mapping[str, str],
    echo_stdout: bool = True,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> Completed:
    """`provisioner ARGS`, its output shown in the job log as it comes and kept for the summary;
    `echo_stdout=False` keeps stdout out of the log (the markdown plan, shown in a group)."""
    out = out or sys.stdout
    err = err or sys.stderr
    out.flush()
    try:
        process = subprocess.Popen(
            [*provisioner_command(), *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as error:
        return Completed(1, "", f"error: cannot run provisioner: {error}\n")
    assert process.stdout is not None and process.stderr is not None
    stdout: list[str] = []
    stderr: list[str] = []
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, out if echo_stdout else None, stdout)),
        threading.Thread(target=_pump, args=(process.stderr, err, stderr)),
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    return Completed(process.wait(), "".join(stdout), "".join(stderr))
