"""The words the action writes: the verdicts, the pull-request comment, the job summaries and the
drift issue. Pure functions of their arguments (no I/O, no clock, no environment), so the
limits (a comment holds 65,536 characters) are kept here and nowhere else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

COMMENT_LIMIT = 65_536
ISSUE_BUDGET = 60_000

PLAN_MARKER = "<!-- provisioner-plan -->"
DRIFT_MARKER = "<!-- provisioner-drift -->"
DRIFT_LABEL = "provisioner-drift"

VERDICTS = {
    0: "no changes",
    2: "changes to apply on merge",
}
ERRORS = "errors: nothing will be applied until they are fixed"


def verdict(code: int) -> str:
    return VERDICTS.get(code, ERRORS)


def dir_marker(directory: str) -> str:
    """The second hidden line: which stack a comment or an issue is about (one per stack)."""
    return f"<!-- dir: {directory} -->"


# The marker `provisioner.plan.document.DIGEST_MARKER` names, as a markdown plan writes it
# (spelt again here: this package imports nothing of the CLI's).
DIGEST_MARKER = re.compile(r"<!-- provisioner-changes-digest: (sha256:[0-9a-f]{64}) -->")
HEAD_MARKER = re.compile(r"<!-- provisioner-head: ([0-9a-f]{7,64}) -->")


def reviewed(body: str) -> tuple[str | None, str | None]:
    """The changes digest and the head commit a plan comment records (None: not there)."""
    digest, head = DIGEST_MARKER.search(body), HEAD_MARKER.search(body)
    return (digest[1] if digest else None, head[1] if head else None)


def plan_comment_prefix(directory: str) -> str:
    """How the sticky comment starts, and so how it is found again."""
    return f"{PLAN_MARKER}\n{dir_marker(directory)}\n"


def root_marker(root: str) -> str:
    """The second hidden line of the one comment over a root of several stacks."""
    return f"<!-- root: {root} -->"


def root_comment_prefix(root: str) -> str:
    """How the comment over a root starts (never the start of a single stack's comment)."""
    return f"{PLAN_MARKER}\n{root_marker(root)}\n"


STACK_MARKER = "<!-- provisioner-stack: "


def stack_marker(directory: str) -> str:
    """The hidden line that opens a stack's section in the comment over a root."""
    return f"{STACK_MARKER}{directory} -->"


def stack_section(body: str, directory: str) -> str | None:
    """The section of stack `directory` in a comment over a root (its markers, the merge's
    apply reads them), up to the next section; None when it has none."""
    # Whole lines only: a plan's text can quote the marker, never start a line with it (its
    # markdown escapes `<`, its errors are in a code block under a file name).
    marker = f"\n{stack_marker(directory)}\n"
    start = body.find(marker)
    if start < 0:
        return None
    end = body.find(f"\n{STACK_MARKER}", start + len(marker))
    return body[start + 1 : end + 1 if end >= 0 else len(body)]


def code_block(text: str) -> str:
    """`text` in a fenced block whose fence no run of backticks inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}"


def cut(text: str, budget: int) -> tuple[str, bool]:
    """At most `budget` characters of `text`, cut at a line's end; and whether it was cut."""
    if len(text) <= budget:
        return text, False
    head = text[:budget]
    newline = head.rfind("\n")
    return (head[: newline + 1] if newline > 0 else head), True


def _footer(sha: str, run_url: str) -> str:
    parts = [f"commit {sha}" if sha else "", f"run {run_url}" if run_url else ""]
    shown = ", ".join(part for part in parts if part)
    return f"<sub>{shown}</sub>" if shown else ""


def plan_body(
    *, code: int, markdown: str, log: str, budget: int, artifact: str
) -> tuple[str, bool]:
    """The plan (exit 0 or 2) or the errors (exit 1), cut to `budget`: the markdown plan, or the
    log in a code block; and whether it was cut."""
    if code in VERDICTS:
        text, was_cut = cut(markdown, budget)
        if was_cut:
            text += f"\n_(cut: the whole plan is in the run's `{artifact}` artifact)_\n"
        return text, was_cut
    text, was_cut = cut(log or "(provisioner printed nothing)", budget)
    block = code_block(text)
    if was_cut:
        block += "\n_(cut: the job log has every error)_"
    return block, was_cut


def plan_comment(
    *,
    directory: str,
    code: int,
    markdown: str,
    log: str,
    sha: str,
    run_url: str,
    artifact: str,
) -> str:
    """The sticky pull-request comment: hidden markers, the verdict, the plan or the errors."""
    # The digest and the commit up front, where no cut of the plan can reach: the merge's
    # apply reads them (`apply --reviewed-digest`).
    digest = DIGEST_MARKER.search(markdown) if code in (0, 2) else None
    markers = (f"{digest[0]}\n" if digest else "") + (
        f"<!-- provisioner-head: {sha} -->\n" if re.fullmatch(r"[0-9a-f]{7,64}", sha) else ""
    )
    head = (
        f"{plan_comment_prefix(directory)}{markers}"
        f"### provisioner plan `{directory}`: {verdict(code)}\n\n"
    )
    footer = f"\n\n{_footer(sha, run_url)}\n"
    # What is left for the plan, with room for the cut note (a few hundred characters).
    budget = COMMENT_LIMIT - len(head) - len(footer) - 500
    body, _ = plan_body(code=code, markdown=markdown, log=log, budget=budget, artifact=artifact)
    return head + body.rstrip() + footer


@dataclass(frozen=True)
class StackPlan:
    """One stack's part of the comment over a root."""

    directory: str
    code: int
    markdown: str
    log: str
    artifact: str


def combined(codes: Sequence[int]) -> int:
    """Any error 1, else any changes 2, else 0."""
    if any(code not in VERDICTS for code in codes):
        return 1
    return 2 if 2 in codes else 0


# The most of a stack's errors a shortened section still shows.
SHORT_LOG = 1_500


def _section(plan: StackPlan, sha: str, *, short: bool) -> str:
    """A stack's section: its markers (the digest, the commit), its heading, then its plan or
    errors; `short`, a line of counts and where the whole plan is instead."""
    digest = DIGEST_MARKER.search(plan.markdown) if plan.code in VERDICTS else None
    markers = (f"{digest[0]}\n" if digest else "") + (
        f"<!-- provisioner-head: {sha} -->\n" if re.fullmatch(r"[0-9a-f]{7,64}", sha) else ""
    )
    heading = f"#### `{plan.directory}`: {verdict(plan.code)}"
    head = f"{stack_marker(plan.directory)}\n{markers}{heading}\n\n"
    if not short:
        body, _ = plan_body(
            code=plan.code,
            markdown=plan.markdown,
            log=plan.log,
            budget=COMMENT_LIMIT,
            artifact=plan.artifact,
        )
    elif plan.code in VERDICTS:
        first = next((line for line in plan.markdown.splitlines() if line.strip()), "")
        body = (
            f"{first}\n\n_The plan ({len(plan.markdown):,} characters) is too long for this "
            f"comment beside the other stacks': the run's job summary and its "
            f"`{plan.artifact}` artifact have it._"
        )
    else:
        body, _ = plan_body(
            code=plan.code, markdown="", log=plan.log, budget=SHORT_LOG, artifact=plan.artifact
        )
    return head + body.rstrip() + "\n\n"


def stacks_comment(
    *, root: str, plans: Sequence[StackPlan], sha: str, run_url: str, note: str = ""
) -> str:
    """The one pull-request comment over a root: a section per stack, each with its own
    markers, within `COMMENT_LIMIT`: the longest sections are shortened first, one by one,
    while every stack keeps its heading and its digest."""
    code = combined([p.code for p in plans])
    rows = "".join(f"| `{p.directory}` | {verdict(p.code)} |\n" for p in plans)
    head = (
        f"{root_comment_prefix(root)}"
        f"### provisioner plan `{root}`: {verdict(code)}\n\n"
        + (f"{note}\n\n" if note else "")
        + (f"| stack | plan |\n|---|---|\n{rows}\n" if plans else "_No stack to plan._\n\n")
    )
    footer = f"{_footer(sha, run_url)}\n"
    sections = [_section(p, sha, short=False) for p in plans]
    budget = COMMENT_LIMIT - len(head) - len(footer) - 100
    shortened: set[int] = set()
    while sum(map(len, sections)) > budget and len(shortened) < len(sections):
        longest = max(
            (i for i in range(len(sections)) if i not in shortened), key=lambda i: len(sections[i])
        )
        sections[longest] = _section(plans[longest], sha, short=True)
        shortened.add(longest)
    return head + "".join(sections) + footer


def plan_summary(
    *, directory: str, code: int, markdown: str, log: str, artifact: str, note: str = ""
) -> str:
    body, _ = plan_body(code=code, markdown=markdown, log=log, budget=800_000, artifact=artifact)
    lines = [f"## provisioner plan `{directory}`: {verdict(code)}", ""]
    if note:
        lines += [note, ""]
    return "\n".join(lines) + body.rstrip() + "\n"


def command_summary(*, command: str, directory: str, code: int, output: str) -> str:
    """`apply`, `validate`, `record-secrets` or `drift`: the verdict and what it printed."""
    if command == "apply":
        outcome = "applied" if code == 0 else f"failed (exit {code})"
    elif command == "record-secrets":
        outcome = "secret names recorded" if code == 0 else f"failed (exit {code})"
    elif command == "validate":
        outcome = "every spec is valid" if code == 0 else f"errors (exit {code})"
    else:
        outcome = {
            0: "the live endpoints match the specs",
            2: "drift: the live endpoints differ",
        }.get(code, f"errors (exit {code}): the fleet was not compared")
    return _command_summary(command, directory, outcome, output)


def _command_summary(command: str, directory: str, outcome: str, output: str) -> str:
    text, was_cut = cut(output or "(provisioner printed nothing)", 800_000)
    note = "\n_(cut: the job log has the rest)_" if was_cut else ""
    return f"## provisioner {command} `{directory}`: {outcome}\n\n{code_block(text)}{note}\n"


def drift_title(directory: str) -> str:
    return f"provisioner: the live endpoints of `{directory}` differ from the specs"


def drift_body(*, directory: str, ref_name: str, plan: str, run_url: str) -> str:
    """The drift issue (and each later comment on it while the drift lasts)."""
    text, was_cut = cut(plan, ISSUE_BUDGET)
    where = f" on `{ref_name}`" if ref_name else ""
    lines = [
        DRIFT_MARKER,
        dir_marker(directory),
        f"The live endpoints differ from the specs in `{directory}`{where} "
        f"(found by {run_url or 'a drift run'}).",
        "Either someone changed them outside provisioner (web UI, `hf endpoints`), or a merge's "
        "apply did not finish. Review the plan, then run the apply workflow (it repairs the "
        "drift) or change the specs to match. (A pause, resume or scaling a `schedule:` is due "
        "to make is shown in the plan but not counted: the scheduled apply makes it.)",
        "",
        code_block(text),
    ]
    if was_cut:
        lines.append("_(cut: the job log has the whole plan)_")
    return "\n".join(lines) + "\n"


def drift_closed(*, directory: str, run_url: str) -> str:
    return (
        f"The live endpoints match the specs in `{directory}` again "
        f"({run_url or 'a drift run'}); closing."
    )


def left_alone(output: str) -> str | None:
    """The line of a scheduled apply's output that says how many endpoints it left differing
    from their specs (`render.text.held_note`'s twin), for a warning annotation."""
    for line in output.splitlines():
        if line.startswith("Left alone: "):
            return line
    return None
