"""The action over a root of several stacks (the `root:` input): the stacks are what
`provisioner stacks --root ROOT --json` lists (the folders holding `_settings.yaml`), and each
command runs the single-stack one of `commands` over each of them, in turn, each with its own
lock. A plan keeps ONE pull-request comment with a section per stack (each with the markers the
merge's apply reads for that stack), within GitHub's 65,536 characters; an apply holds each
stack to the digest its own section showed; drift keeps one issue per stack. Exit codes are
combined: any error 1, else any changes 2, else 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from provisioner.action import commands, texts
from provisioner.action.commands import Result, Session
from provisioner.action.github import GitHubError
from provisioner.action.inputs import from_fork, pull_request
from provisioner.action.workflow import run_cli


def _for(session: Session, directory: str) -> Session:
    return replace(session, inputs=replace(session.inputs, directory=directory))


def _stacks(session: Session) -> tuple[list[str], str]:
    """The stacks' folders, or none and what `provisioner stacks` said was wrong."""
    root = session.inputs.root
    done = run_cli(["stacks", "--root", root, "--json"], env=session.cli_env, echo_stdout=False)
    if done.code != 0:
        return [], done.text
    listed = json.loads(done.stdout)["stacks"]
    return [str(row["dir"]) for row in listed], ""


def _cannot_list(session: Session, log: str) -> Result:
    root = session.inputs.root
    session.workflow.error(
        f"cannot find the stacks under {root}: see the errors above", title="provisioner stacks"
    )
    session.workflow.summary(
        texts.command_summary(command=session.inputs.command, directory=root, code=1, output=log)
    )
    return Result(code=1, failed=True)


def _combined(results: list[Result], **outputs: str) -> Result:
    code = texts.combined([r.code for r in results])
    failed = any(r.failed for r in results)
    issue = next((r.issue_url for r in results if r.issue_url), "")
    return Result(code=code, failed=failed, issue_url=issue, **outputs)


def _each(command: Callable[[Session], Result]) -> Callable[[Session], Result]:
    """`command` over every stack under the root, its results combined."""

    def over_root(session: Session) -> Result:
        folders, log = _stacks(session)
        if log:
            return _cannot_list(session, log)
        results = []
        for folder in folders:
            session.workflow.log(f"==> stack {folder}")
            results.append(command(_for(session, folder)))
        return _combined(results)

    return over_root


def plan(session: Session) -> Result:
    inputs, runner = session.inputs, session.runner
    root = inputs.root
    pr = pull_request(runner)
    folders, log = _stacks(session)
    if pr is not None and from_fork(pr):
        if log:
            return _cannot_list(session, log)
        return _combined([commands.validate_only(_for(session, f)) for f in folders])
    artifact = commands.artifact_name(root)
    top = runner.temp / "provisioner" / artifact
    plans: list[texts.StackPlan] = []
    results: list[Result] = []
    if log:
        result = _cannot_list(session, log)
        plans.append(texts.StackPlan(root, 1, "", log, artifact))
    else:
        for folder in folders:
            session.workflow.log(f"==> stack {folder}")
            planned = commands.plan_stack(
                _for(session, folder), top / commands.artifact_name(folder)
            )
            plans.append(
                texts.StackPlan(folder, planned.code, planned.markdown, planned.log, artifact)
            )
            results.append(planned.result)
        # Every stack's whole plan in one file beside their folders (not in them: the artifact
        # lists each file once).
        whole = top.parent / f"{artifact}.md"
        whole.write_text(
            "".join(
                f"## `{p.directory}`\n\n{p.markdown.rstrip()}\n\n" for p in plans if p.markdown
            ),
            encoding="utf-8",
        )
        saved = any(r.plan_path for r in results)
        result = _combined(
            results,
            plan_path=str(top.resolve()) if saved else "",
            markdown_path=str(whole.resolve()) if saved else "",
            artifact=artifact,
        )
    if pr is None or not inputs.comment:
        return result
    body = texts.stacks_comment(
        root=root, plans=plans, sha=commands.head_sha(session, pr), run_url=runner.run_url
    )
    try:
        url = commands.sticky_comment(session, int(pr["number"]), body)
    except GitHubError as error:
        session.workflow.error(
            f"could not post the plan comment: {error}; the workflow's token needs "
            "`permissions: pull-requests: write`",
            title="provisioner: GitHub API",
        )
        return replace(result, failed=True)
    return replace(result, comment_url=url)


COMMANDS: dict[str, Callable[[Session], Result]] = {
    "plan": plan,
    "apply": _each(commands.apply),
    "drift": _each(commands.drift),
    "validate": _each(commands.validate),
}
