"""Smoke test results as text (one line each, the failing answer under it) and as JSON. Pure:
results in, str out; the results are already free of secrets (`provisioner.smoke.runner`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from provisioner.render.reasons import counted
from provisioner.smoke.runner import SmokeResult, Verdict

JSON_VERSION = 1


def smoke_line(result: SmokeResult) -> str:
    """`✓ acme/a: smoke test passed (200)`, `✗ ...: smoke test failed: why` with the answer on
    the next line, or `- ...: smoke test not run: why`."""
    address = result.address
    if result.verdict is Verdict.PASSED:
        note = f", {result.detail}" if result.detail else ""
        return f"  ✓ {address}: smoke test passed ({result.status}{note})"
    if result.verdict is Verdict.NOT_RUN:
        return f"  - {address}: smoke test not run: {result.detail}"
    line = f"  ✗ {address}: smoke test failed: {result.detail}"
    if result.body is not None:
        body = " ".join(result.body.split()) or "(empty)"
        line += f"\n      answer ({result.status}): {body}"
    return line


def render_smoke_text(results: Sequence[SmokeResult]) -> str:
    """One line per endpoint, then `3 smoke tests: 2 passed, 1 failed`."""
    lines = [smoke_line(r) for r in results]
    by = Counter(r.verdict for r in results)
    parts = [f"{by[v]} {v.value}" for v in Verdict if by[v]]
    lines.append(f"\n{counted(len(results), 'smoke test')}: {', '.join(parts) or 'none'}.")
    return "\n".join(lines) + "\n"


def render_smoke_json(results: Sequence[SmokeResult]) -> str:
    document = {
        "format_version": JSON_VERSION,
        "ok": all(r.ok for r in results),
        "results": [
            {
                "address": r.address,
                "result": r.verdict.value,
                "detail": r.detail or None,
                "status": r.status,
                "body": r.body,
                "attempts": r.attempts,
            }
            for r in results
        ],
    }
    return json.dumps(document, indent=2) + "\n"
