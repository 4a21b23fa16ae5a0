"""Diagnostics: user mistakes as data, with the file:line:col they point at.

Problems are collected, never raised one by one, so a single run reports all of them. This module
owns the value types and their canonical text form; it does no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Mark:
    """A position in a user's file; line and column are 1-based, as editors count."""

    file: Path
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Diagnostic:
    mark: Mark
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.mark}: {self.severity.value}: {self.message}"


@dataclass
class Diagnostics:
    """An ordered, de-duplicated collection of diagnostics.

    The same problem can surface once per spec that inherits a `_defaults.yaml` value; it is
    reported once.
    """

    _items: dict[Diagnostic, None] = field(default_factory=dict)

    def error(self, mark: Mark, message: str) -> None:
        self._items.setdefault(Diagnostic(mark, message), None)

    def warning(self, mark: Mark, message: str) -> None:
        self._items.setdefault(Diagnostic(mark, message, Severity.WARNING), None)

    def extend(self, other: Iterable[Diagnostic]) -> None:
        for item in other:
            self._items.setdefault(item, None)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self._items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self._items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def display_path(path: Path, base: Path | None = None) -> Path:
    """The path as the user would type it: relative to `base` (the working directory) if inside."""
    base = base or Path.cwd()
    try:
        return path.resolve().relative_to(base.resolve())
    except ValueError:
        return path
