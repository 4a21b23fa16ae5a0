"""The action's entry point: read the inputs, mask the secrets, run the command, write the
outputs. Exits 0 whenever it could say what happened (the `failed` output then decides, in
action.yml's last step, so the plan artifact is still uploaded after a failed plan); 1 only when
it could not even start, and then with an `::error` saying why.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from typing import IO

from provisioner.action import stacks
from provisioner.action.commands import COMMANDS, Result, Session
from provisioner.action.github import GitHub
from provisioner.action.inputs import InputError, read_inputs, read_runner
from provisioner.action.workflow import Workflow, cli_environment


def main(environ: Mapping[str, str] | None = None, out: IO[str] | None = None) -> int:
    env = dict(os.environ if environ is None else environ)
    out = out or sys.stdout
    try:
        runner = read_runner(env)
    except InputError as error:
        Workflow(output_file=None, summary_file=None, out=out).error(
            str(error), title="provisioner action"
        )
        return 1
    workflow = Workflow(output_file=runner.output_file, summary_file=runner.summary_file, out=out)
    try:
        inputs = read_inputs(env)
    except InputError as error:
        workflow.error(str(error), title="provisioner action: bad input")
        workflow.outputs(Result(code=1, failed=True).outputs())
        return 0
    # Before anything else is printed: the runner blanks these from every later line.
    for value in (*inputs.secrets.values(), inputs.hf_token):
        workflow.mask(value)
    session = Session(
        inputs=inputs,
        runner=runner,
        workflow=workflow,
        cli_env=cli_environment(env, inputs),
        github=lambda: GitHub(runner.api_url, runner.repository, inputs.github_token),
    )
    try:
        chosen = stacks.COMMANDS if inputs.root else COMMANDS
        result = chosen[inputs.command](session)
    except Exception as error:  # a bug in the action, not the user's input: say so
        workflow.error(
            f"internal error in the provisioner action ({type(error).__name__}); this is a bug, "
            "please report it. Re-run the job with debug logging to see where it happened.",
            title="provisioner action",
        )
        if runner.debug:
            workflow.group("traceback", traceback.format_exc())
        workflow.outputs(Result(code=1, failed=True).outputs())
        return 0
    workflow.outputs(result.outputs())
    return 0
