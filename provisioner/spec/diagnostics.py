"""Diagnostics: problems as data, with what they point at (a file:line:col, an endpoint, or the
run as a whole), and `ProvisionerError`, the one root of every error raised on purpose.

Spec problems are collected, never raised one by one, so a single run reports all of them; what
stops a run later (a stale plan, a missing secret, an API that cannot be read) is raised as a
`ProvisionerError` carrying diagnostics of the same shape. This module owns the value types and
their canonical text form; it does no I/O.
"""

from __future__ import annotations

import enum
import functools
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# How much of one value a message shows: enough to recognise it, never a megabyte in a
# terminal or a CI log. A whole message is capped too, for values with spaces in them.
MAX_SHOWN = 300
MAX_MESSAGE = 4_000
_LONG_WORD = re.compile(rf"\S{{{MAX_SHOWN + 1},}}")


def clip(text: str, limit: int = MAX_SHOWN) -> str:
    """`text`, or its first `limit` characters and how many more were cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit:,} more characters cut]"


def shown(value: object) -> str:
    """A value as a message quotes it (`repr`), cut to `MAX_SHOWN` characters."""
    return clip(repr(value))


def bounded(message: str) -> str:
    """`message` with every run of more than `MAX_SHOWN` non-blank characters cut, then the
    whole cut to `MAX_MESSAGE`: the net under every diagnostic, whoever wrote its text."""
    return clip(_LONG_WORD.sub(lambda found: clip(found.group()), message), MAX_MESSAGE)


@dataclass(frozen=True, order=True, slots=True)
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
class Address:
    """An endpoint on the service: what a diagnostic is about when no file is to blame."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


# What a diagnostic points at: a position in a file, an endpoint, or (None) the run as a whole.
Subject = Mark | Address | None


@functools.total_ordering
@dataclass(frozen=True)
class Diagnostic:
    subject: Subject
    message: str
    severity: Severity = Severity.ERROR

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", bounded(self.message))

    @property
    def mark(self) -> Mark:
        """The file position of a file diagnostic (a plan's diagnostics are file diagnostics,
        except warnings about a listed endpoint no spec names, which carry its `Address`)."""
        if not isinstance(self.subject, Mark):
            raise ValueError(f"not a file diagnostic: {self}")
        return self.subject

    def __str__(self) -> str:
        # A message about an endpoint names it in its own words ("acme/svc was deleted since
        # the plan was made"), so only a file position is put in front.
        if isinstance(self.subject, Mark):
            return f"{self.subject}: {self.severity.value}: {self.message}"
        return f"{self.severity.value}: {self.message}"

    def _key(self) -> tuple[Any, ...]:
        # Files first (by position), then endpoints (by address), then the run: subjects of
        # different kinds are never compared with each other.
        if isinstance(self.subject, Mark):
            where: tuple[Any, ...] = (0, self.subject)
        elif isinstance(self.subject, Address):
            where = (1, self.subject)
        else:
            where = (2, 0)
        return (*where, self.message, self.severity)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return self._key() < other._key()


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

    def add(self, item: Diagnostic) -> None:
        self._items.setdefault(item, None)

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


@functools.lru_cache(maxsize=256)
def _resolved(base: str) -> Path:
    """A folder (the working directory, a spec's folder), resolved once per run rather than
    once per file shown."""
    return Path(base).resolve()


@functools.lru_cache(maxsize=256)
def _shown_folder(folder: str, base: str) -> Path | None:
    """`folder` resolved and relative to `base` resolved, or None when it is not inside it:
    what every file of one folder is shown under, worked out once per folder rather than once
    per spec (pathlib's `relative_to` is most of the cost of showing a path)."""
    try:
        return _resolved(folder).relative_to(_resolved(base))
    except ValueError:
        return None


def display_path(path: Path, base: Path | None = None, *, follow_links: bool = True) -> Path:
    """The path as the user would type it: relative to `base` (the working directory) if inside.
    With `follow_links=False`, a symbolic link is shown as itself, not as what it leads to."""
    # `Path.cwd()` is `Path(os.getcwd())`: only its text is needed, and making the Path costs
    # more than the rest of showing a file in a folder already seen.
    shown_base = os.getcwd() if base is None else str(base)  # noqa: PTH109
    try:
        if not follow_links:
            return path.absolute().relative_to(Path(shown_base).absolute())
        if path.is_symlink():
            return path.resolve().relative_to(_resolved(shown_base))
        # A file that is no link is its resolved folder plus its name: one lstat instead of
        # resolving every component of every spec's path.
        folder = _shown_folder(str(path.parent), shown_base)
        if folder is not None:
            return folder / path.name
        # The folder is outside `base`: only `base` itself can be `path` (`--dir .`).
        return (_resolved(str(path.parent)) / path.name).relative_to(_resolved(shown_base))
    except (ValueError, RuntimeError, OSError):
        # Outside `base`, or a symbolic link loop (RuntimeError before Python 3.13, OSError
        # after): shown as given, and whoever reads it reports the loop.
        return path


class ProvisionerError(Exception):
    """The root of every error provisioner raises on purpose: what stopped the run, as
    diagnostics, and a `note` (what it means for the run, what to do next). The CLI catches this
    one type and renders it with the diagnostics renderer.

    `str()` of it is the messages alone, so a subclass with one message (the API errors of
    `provisioner.hub.errors`) reads as before wherever it is quoted.
    """

    def __init__(self, *diagnostics: Diagnostic, note: str | None = None) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics
        self.note = note

    @staticmethod
    def because(
        message: str, subject: Subject = None, *, note: str | None = None
    ) -> ProvisionerError:
        """The one-diagnostic shorthand: `raise ProvisionerError.because("cannot ...") from e`."""
        return ProvisionerError(Diagnostic(subject, message), note=note)
