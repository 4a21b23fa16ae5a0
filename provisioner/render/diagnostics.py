"""Diagnostics as text: `path:line:col: error: message`, one per line, then a count."""

from __future__ import annotations

from collections.abc import Iterable

from provisioner.spec.diagnostics import Diagnostic, Severity


def render_diagnostics(diagnostics: Iterable[Diagnostic]) -> str:
    items = sorted(diagnostics)
    if not items:
        return ""
    lines = [str(d) for d in items]
    errors = sum(1 for d in items if d.severity is Severity.ERROR)
    warnings = len(items) - errors
    counts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
    if warnings:
        counts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    lines.append(", ".join(counts))
    return "\n".join(lines) + "\n"
