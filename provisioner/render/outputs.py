"""`provisioner output` as shell exports, a dotenv file, GitHub step outputs or one JSON
document, and the short block of outputs an apply changed. Pure: outputs in, str out.

An output without a URL is never an empty value: env and dotenv say why in a comment line in
their place (`# CHAT_URL not set: ...`, which shells and dotenv readers skip), GitHub outputs
(whose file takes no comments) get the same line as a note for stderr, and JSON has `url: null`
with a reason code and its sentence.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence

from provisioner.apply.outputs import Absence, EndpointOutput, Moved

# 1: the first version of the document.
OUTPUTS_FORMAT_VERSION = "1"


def absence_words(output: EndpointOutput, *, apply_command: str = "provisioner apply") -> str:
    """Why `output` has no URL: a clause whose subject is the endpoint (`acme/x ` + it)."""
    absent, state = output.absent, output.state
    if absent is Absence.NOT_CREATED:
        return f"is not created yet; `{apply_command}` creates it"
    if absent is Absence.PAUSED:
        return (
            "is paused, and a paused endpoint has no URL; set `state: running` in its spec (or "
            f"wait for its schedule) and run `{apply_command}` to resume it"
        )
    if absent is Absence.PRIVATE:
        return (
            "is private: reachable only through AWS PrivateLink, from inside the VPC it is "
            "linked to; no URL is given for use elsewhere"
        )
    if absent is Absence.NOT_RUNNING:
        return f"is not running yet ({state}): it gets its URL once it starts"
    if absent is Absence.FAILED:
        return f"failed to deploy ({state}): `provisioner status` says why"
    if absent is Absence.UNREADABLE:
        return "is listed in a form provisioner cannot read; `provisioner plan` says how"
    if absent is Absence.UNUSABLE:
        return "is listed with a URL that is not a plain http(s) URL, or holds a secret: not given"
    return "has no URL"


def note(output: EndpointOutput, *, apply_command: str = "provisioner apply") -> str:
    """`CHAT_URL not set: acme/chat is paused, ...` (one line)."""
    words = absence_words(output, apply_command=apply_command)
    return f"{output.variable} not set: {output.address} {words}"


def _line(output: EndpointOutput, *, export: bool, apply_command: str) -> str:
    if output.url is None:
        return f"# {note(output, apply_command=apply_command)}"
    if export:
        return f"export {output.variable}={shlex.quote(output.url)}"
    return f"{output.variable}={output.url}"


def render_env(
    outputs: Sequence[EndpointOutput], *, apply_command: str = "provisioner apply"
) -> str:
    """`export CHAT_URL='https://...'` lines, for `eval "$(provisioner output)"`."""
    lines = [_line(o, export=True, apply_command=apply_command) for o in outputs]
    return "".join(f"{line}\n" for line in lines)


def render_dotenv(
    outputs: Sequence[EndpointOutput], *, apply_command: str = "provisioner apply"
) -> str:
    """`CHAT_URL=https://...` lines, for a `.env` file (the URLs need no quoting: only plain
    http(s) URLs are given, `apply.outputs`)."""
    lines = [_line(o, export=False, apply_command=apply_command) for o in outputs]
    return "".join(f"{line}\n" for line in lines)


def render_github(outputs: Sequence[EndpointOutput]) -> str:
    """The lines appended to `$GITHUB_OUTPUT`: `CHAT_URL=https://...`, only for outputs with a
    URL (the file takes no comments: the CLI prints `note` for the others)."""
    return "".join(f"{o.variable}={o.url}\n" for o in outputs if o.url is not None)


def render_outputs_json(
    outputs: Sequence[EndpointOutput], *, stack: str, apply_command: str = "provisioner apply"
) -> str:
    """One document: `values` (variable -> URL, for `jq -r .values.CHAT_URL`) and one entry per
    endpoint, in the stack's order."""
    document = {
        "format_version": OUTPUTS_FORMAT_VERSION,
        "stack": stack,
        "values": {o.variable: o.url for o in outputs if o.url is not None},
        "outputs": [
            {
                "address": o.address,
                "namespace": o.namespace,
                "name": o.name,
                "variable": o.variable,
                "url": o.url,
                "state": o.state,
                "reason": None if o.absent is None else o.absent.value,
                "detail": None
                if o.absent is None
                else f"{o.address} {absence_words(o, apply_command=apply_command)}",
                "spec": o.spec,
            }
            for o in outputs
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def render_moved(
    moved: Sequence[Moved],
    *,
    output_command: str = "provisioner output",
    apply_command: str = "provisioner apply",
) -> str:
    """The block after an apply's summary: each URL it gave, moved or took away, one line each,
    then how to print them all. Empty when no URL changed."""
    if not moved:
        return ""
    lines = ["", "Outputs changed:"]
    for change in moved:
        output, before = change.output, change.before
        where = f"  {output.address}: {output.variable}"
        if output.url is None:
            lines.append(
                f"{where} not set now: it {absence_words(output, apply_command=apply_command)}"
            )
        elif before is None:
            lines.append(f"{where}={output.url}")
        else:
            lines.append(f"{where} moved: {before} -> {output.url}")
    lines.append(f"Pass them on to the applications: `{output_command}`.")
    return "\n".join(lines) + "\n"
