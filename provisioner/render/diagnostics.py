"""Diagnostics as text: `path:line:col: error: message` (or `error: message` when no file is to
blame), one per line; then a count, or, for what stopped a run, its note."""

from __future__ import annotations

from collections.abc import Iterable

from provisioner.spec.diagnostics import Diagnostic, ProvisionerError, Severity


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


def render_error(error: ProvisionerError) -> str:
    """What stopped a run: its diagnostics in order, then what that means and what to do."""
    lines = [str(d) for d in sorted(error.diagnostics)]
    if error.note:
        lines.append(error.note)
    return "\n".join(lines) + "\n"
