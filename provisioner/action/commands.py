"""The things the action does (`command:` plan, apply, drift, validate, record-secrets), each a
function of one `Session` returning a `Result` (the step's outputs). The CLI decides; these only
run it, tell the runner what it said and keep the pull request's comment and the drift issue up
to date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from provisioner.action import texts
from provisioner.action.github import GitHub, GitHubError
from provisioner.action.inputs import Inputs, Runner, from_fork, pull_request
from provisioner.action.workflow import Completed, Workflow, run_cli


@dataclass(frozen=True)
class Session:
    inputs: Inputs
    runner: Runner
    workflow: Workflow
    # The CLI's environment (workflow.cli_environment): the only place secret values go.
    cli_env: Mapping[str, str] = field(repr=False)
    github: Callable[[], GitHub]


@dataclass(frozen=True)
class Result:
    """The step's outputs; `failed` makes action.yml's last step fail the job."""

    code: int
    failed: bool
    plan_path: str = ""
    markdown_path: str = ""
    comment_url: str = ""
    issue_url: str = ""
    artifact: str = ""

    def outputs(self) -> dict[str, str]:
        return {
            "exit-code": str(self.code),
            "has-changes": "true" if self.code == 2 else "false",
            "failed": "true" if self.failed else "false",
            "plan-path": self.plan_path,
            "markdown-path": self.markdown_path,
            "comment-url": self.comment_url,
            "issue-url": self.issue_url,
            "artifact-name": self.artifact,
        }


def artifact_name(directory: str) -> str:
    """One artifact per stack: `provisioner-plan`, or `provisioner-plan-<dir>` for another dir."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", directory).strip("-.")
    return "provisioner-plan" if slug in ("", "endpoints") else f"provisioner-plan-{slug}"


def plan_folder(runner: Runner, directory: str) -> Path:
    """Where a stack's saved plan and its markdown go: `$RUNNER_TEMP/provisioner/<artifact>/`."""
    return runner.temp / "provisioner" / artifact_name(directory)


def _run(session: Session, *args: str, echo_stdout: bool = True) -> Completed:
    return run_cli(list(args), env=session.cli_env, echo_stdout=echo_stdout)


def _api_failure(session: Session, what: str, error: GitHubError, permission: str) -> None:
    hint = (
        f"; the workflow's token needs `permissions: {permission}`"
        if error.status in (401, 403, 404)
        else ""
    )
    session.workflow.error(f"could not {what}: {error}{hint}", title="provisioner: GitHub API")


def _once(session: Session, command: str, args: tuple[str, ...], failure: str) -> Result:
    """Run one CLI command, put its output in the job summary, and fail the step (saying
    `failure` about the stack's directory) unless it exits 0."""
    directory = session.inputs.directory
    done = _run(session, *args)
    session.workflow.summary(
        texts.command_summary(
            command=command, directory=directory, code=done.code, output=done.text
        )
    )
    if done.code != 0:
        session.workflow.error(
            f"provisioner {failure} {directory}: see the log above", title=f"provisioner {command}"
        )
    return Result(code=done.code, failed=done.code != 0)


def validate(session: Session) -> Result:
    args = ("validate", "--dir", session.inputs.directory, *session.inputs.args)
    return _once(session, "validate", args, "validate found errors in")


def validate_only(session: Session) -> Result:
    """A fork's pull request: validate, a notice, no plan (it gets no secrets)."""
    directory, workflow = session.inputs.directory, session.workflow
    checked = _run(session, "validate", "--dir", directory)
    workflow.notice(
        "pull requests from forks get no secrets, so only validate ran; a maintainer can push "
        "the branch to this repository to get a plan",
        title="plan skipped",
    )
    note = "_Plan skipped: a pull request from a fork gets no secrets; only validate ran._"
    workflow.summary(
        texts.command_summary(
            command="validate",
            directory=directory,
            code=checked.code,
            output=checked.text,
        )
        + f"\n{note}\n"
    )
    if checked.code != 0:
        workflow.error(f"provisioner validate found errors in {directory}", title="validate")
    return Result(code=checked.code, failed=checked.code != 0)


@dataclass(frozen=True)
class Planned:
    """One stack's plan: its exit code, the markdown plan (exit 0 or 2), the log, the outputs."""

    code: int
    markdown: str
    log: str
    result: Result


def plan_stack(session: Session, folder: Path) -> Planned:
    """validate, then plan into `folder` (plan.json, plan.md); the job summary, the annotation."""
    inputs, workflow = session.inputs, session.workflow
    directory = inputs.directory
    artifact = artifact_name(directory)
    checked = _run(session, "validate", "--dir", directory)
    folder.mkdir(parents=True, exist_ok=True)
    saved, rendered = folder / "plan.json", folder / "plan.md"
    for stale in (saved, rendered):
        stale.unlink(missing_ok=True)
    if checked.code != 0:
        code, markdown, log = checked.code, "", checked.text
    else:
        done = _run(
            session,
            *("plan", "--dir", directory, "--detailed-exitcode", "--out", str(saved)),
            # The check fails while apply on merge would refuse a change for a missing secret.
            *("--require-secrets", "--format", "markdown", *inputs.args),
            echo_stdout=False,
        )
        code, markdown, log = done.code, done.stdout, done.stderr
        if markdown:
            workflow.group(f"The plan of {directory} (markdown, as in the comment)", markdown)
    ok = code in (0, 2)
    if ok and markdown:
        rendered.write_text(markdown, encoding="utf-8")
    workflow.summary(
        texts.plan_summary(
            directory=directory, code=code, markdown=markdown, log=log, artifact=artifact
        )
    )
    result = Result(
        code=code,
        failed=not ok,
        plan_path=str(saved.resolve()) if ok and saved.is_file() else "",
        markdown_path=str(rendered.resolve()) if ok and rendered.is_file() else "",
        artifact=artifact,
    )
    if not ok:
        workflow.error(
            f"provisioner plan of {directory} exited {code}: see the errors above (a spec, a "
            "policy, or the API); nothing is applied until they are fixed",
            title="plan failed",
        )
    return Planned(code, markdown, log, result)


def head_sha(session: Session, pr: Mapping[str, Any]) -> str:
    return str((pr.get("head") or {}).get("sha") or session.runner.sha)


def plan(session: Session) -> Result:
    inputs, runner = session.inputs, session.runner
    directory = inputs.directory
    pr = pull_request(runner)
    if pr is not None and from_fork(pr):
        return validate_only(session)
    planned = plan_stack(session, plan_folder(runner, directory))
    result = planned.result
    if pr is None or not inputs.comment:
        return result
    body = texts.plan_comment(
        directory=directory,
        code=planned.code,
        markdown=planned.markdown,
        log=planned.log,
        sha=head_sha(session, pr),
        run_url=runner.run_url,
        artifact=result.artifact,
    )
    try:
        url = sticky_comment(session, int(pr["number"]), body)
    except GitHubError as error:
        _api_failure(session, "post the plan comment", error, "pull-requests: write")
        return replace(result, failed=True)
    return replace(result, comment_url=url)


def _plan_comment(session: Session, github: GitHub, number: int) -> dict[str, Any] | None:
    """This stack's plan comment on pull request `number`, found by its markers and its author
    (so a comment that quotes the marker is never taken for it); None when there is none."""
    inputs = session.inputs
    # Over a root, one comment holds every stack's section (`texts.stack_section`).
    prefix = texts.root_comment_prefix(inputs.root) if inputs.root else None
    prefix = prefix or texts.plan_comment_prefix(inputs.directory)
    author = session.inputs.comment_author
    for comment in github.issue_comments(number):
        login = (comment.get("user") or {}).get("login")
        if login == author and str(comment.get("body", "")).startswith(prefix):
            return comment
    return None


def sticky_comment(session: Session, number: int, body: str) -> str:
    """Update this stack's plan comment, or create it; its URL."""
    github = session.github()
    comment = _plan_comment(session, github, number)
    if comment is not None:
        return str(github.update_comment(int(comment["id"]), body).get("html_url", ""))
    return str(github.create_comment(number, body).get("html_url", ""))


class NotReviewed(Exception):
    """Why a pushed commit has no reviewed plan to hold its apply to."""


def _reviewed_digest(session: Session) -> tuple[str, str]:
    """The changes digest the merged pull request's plan comment showed for this stack, and
    that pull request's URL. Only the digest is taken from the comment (the pull request's own
    job wrote it): the apply plans again with this released tool, on the merged commit, and
    goes on only if its own plan has that digest."""
    runner, github = session.runner, session.github()
    merged = [
        pr
        for pr in github.pulls_of_commit(runner.sha)
        if pr.get("merged_at") and pr.get("merge_commit_sha") == runner.sha
    ]
    if not merged:
        raise NotReviewed(
            f"commit {runner.sha[:12]} reached {runner.ref_name or 'the branch'} without a merged "
            "pull request (a direct push), so no review saw its plan"
        )
    pr = merged[0]
    number, url = int(pr["number"]), str(pr.get("html_url", f"#{pr['number']}"))
    comment = _plan_comment(session, github, number)
    if comment is None:
        raise NotReviewed(
            f"pull request {url} has no plan comment for {session.inputs.directory} (its plan "
            "workflow did not run or did not finish)"
        )
    body: str | None = str(comment.get("body", ""))
    if session.inputs.root:
        body = texts.stack_section(str(body), session.inputs.directory)
    if body is None:
        raise NotReviewed(
            f"the plan comment of pull request {url} has no section for "
            f"{session.inputs.directory} (its plan ran before this stack existed?)"
        )
    digest, head = texts.reviewed(body)
    if digest is None:
        raise NotReviewed(
            f"the plan comment of pull request {url} shows no plan (its plan had errors)"
        )
    last = str((pr.get("head") or {}).get("sha") or "")
    if head is not None and last and not last.startswith(head):
        raise NotReviewed(
            f"the plan comment of pull request {url} is for commit {head[:12]}, but its last "
            f"commit is {last[:12]}: the plan of that push did not finish"
        )
    return digest, url


# How each event's apply runs: nobody watches a merge's or a schedule's (a suspended stack
# changes nothing), and a schedule's makes only the schedules' changes; a person started a
# workflow_dispatch.
UNATTENDED = {"push": ("--unattended",), "schedule": ("--scheduled",)}


def apply(session: Session) -> Result:
    directory = session.inputs.directory
    checked = _run(session, "validate", "--dir", directory)
    review: tuple[str, ...] = UNATTENDED.get(session.runner.event_name, ())
    if checked.code == 0 and session.inputs.require_review and session.runner.event_name == "push":
        try:
            digest, url = _reviewed_digest(session)
        except NotReviewed as why:
            return _unreviewed(session, str(why))
        except GitHubError as error:
            _api_failure(session, "find the reviewed plan", error, "pull-requests: read")
            return Result(code=1, failed=True)
        session.workflow.log(f"Applying only the plan reviewed in {url} ({digest})")
        review = (*review, "--reviewed-digest", digest)
    if checked.code != 0:
        done = checked
    else:
        done = _run(
            session,
            *("apply", "--dir", directory, "--auto-approve", "--lock-timeout", "600"),
            *review,
            *session.inputs.args,
        )
    session.workflow.summary(
        texts.command_summary(
            command="apply", directory=directory, code=done.code, output=done.text
        )
    )
    left = texts.left_alone(done.stdout)
    if left is not None:
        session.workflow.warning(left, title="provisioner: drift left alone")
    if done.code != 0:
        session.workflow.error(
            f"provisioner apply exited {done.code}: see the log above (nothing is applied while "
            "a spec or a policy is wrong; a failed change is retried by the next apply)",
            title="apply failed",
        )
    return Result(code=done.code, failed=done.code != 0)


def _unreviewed(session: Session, why: str) -> Result:
    message = (
        f"{why}. Nothing was applied: an apply on push changes only what a pull request's plan "
        "showed. Merge the change through a pull request, or run the apply workflow by hand "
        "(workflow_dispatch) after reading `provisioner plan`"
    )
    session.workflow.error(message, title="provisioner apply: not reviewed")
    session.workflow.summary(
        texts.command_summary(
            command="apply", directory=session.inputs.directory, code=1, output=message
        )
    )
    return Result(code=1, failed=True)


def drift(session: Session) -> Result:
    """`plan --drift` on the default branch: 2 opens (or comments on) this stack's issue
    labelled `provisioner-drift` and fails; 0 closes it; anything else fails. A schedule's
    transition the scheduled apply has yet to make is not drift (`plan.drift`)."""
    inputs, runner, workflow = session.inputs, session.runner, session.workflow
    directory = inputs.directory
    # Drift runs without secret values: a secret apply lacks is for apply and review to report
    # (a warning here), not a reason to stop comparing the fleet.
    done = _run(
        session,
        *("plan", "--dir", directory, "--drift", "--allow-missing-secrets"),
        *inputs.args,
    )
    workflow.summary(
        texts.command_summary(
            command="drift", directory=directory, code=done.code, output=done.text
        )
    )
    if done.code not in (0, 2):
        workflow.error(
            f"provisioner plan could not compare the fleet with the specs (exit {done.code}): "
            "see the errors above",
            title="plan failed",
        )
        return Result(code=done.code, failed=True)
    try:
        github = session.github()
        issue = _drift_issue(github, directory)
        if done.code == 0:
            if issue is not None:
                github.create_comment(
                    int(issue["number"]),
                    texts.drift_closed(directory=directory, run_url=runner.run_url),
                )
                github.close_issue(int(issue["number"]))
            return Result(code=0, failed=False)
        body = texts.drift_body(
            directory=directory, ref_name=runner.ref_name, plan=done.stdout, run_url=runner.run_url
        )
        if issue is not None:
            github.create_comment(int(issue["number"]), body)
            url = str(issue.get("html_url", ""))
        else:
            github.ensure_label(
                texts.DRIFT_LABEL, color="d93f0b", description="Live endpoints differ from main"
            )
            made = github.create_issue(texts.drift_title(directory), body, [texts.DRIFT_LABEL])
            url = str(made.get("html_url", ""))
    except GitHubError as error:
        _api_failure(session, "update the drift issue", error, "issues: write")
        return Result(code=done.code, failed=True)
    workflow.error(
        f"the live endpoints differ from the specs in {directory}; see the plan above and the "
        f"open '{texts.DRIFT_LABEL}' issue",
        title="drift",
    )
    return Result(code=2, failed=True, issue_url=url)


def _drift_issue(github: GitHub, directory: str) -> dict[str, Any] | None:
    marker = texts.dir_marker(directory)
    for issue in github.open_issues(texts.DRIFT_LABEL):
        body = str(issue.get("body") or "")
        if body.startswith(texts.DRIFT_MARKER) and marker in body:
            return issue
    return None


def record_secrets(session: Session) -> Result:
    """`provisioner state record-secrets`: the apply side tells the pull requests' plans the
    names of the secrets it has (the keys of the `secrets` input), applying nothing; run after
    adding a secret to PROVISIONER_SECRETS, so that the pull request asking for it passes."""
    args = ("state", "record-secrets", "--dir", session.inputs.directory, "--lock-timeout", "600")
    return _once(session, "record-secrets", args, "state record-secrets failed for")


COMMANDS: dict[str, Callable[[Session], Result]] = {
    "plan": plan,
    "apply": apply,
    "drift": drift,
    "validate": validate,
    "record-secrets": record_secrets,
}
