"""`provisioner invoke`'s answer: the status line, then the body. Pure; the body is already cut
short and scrubbed (`provisioner.apply.invoke`)."""

from __future__ import annotations

from provisioner.apply.invoke import Invocation


def render_invocation(result: Invocation) -> str:
    """`acme/chat: 200` (`, after a cold start (3 requests)`), then the answer."""
    woke = ""
    if result.woke:
        requests = "1 request" if result.attempts == 1 else f"{result.attempts} requests"
        woke = f", woken from a cold start ({requests})"
    return f"{result.address}: {result.status}{woke}\n{result.body or '(empty answer)'}\n"
