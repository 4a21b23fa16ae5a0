"""A root of several stacks: which folders under it are stacks, and which of them a set of changed
files touches.

A stack is a folder holding `_settings.yaml` (or `_settings.yml`); its specs are every YAML file
below it, as for `--dir`. So a stack folder inside another stack's folder is refused (the outer
stack would read the inner one's specs as its own, and `load_stack` already refuses a
`_settings.yaml` below a stack's root), and so are two stacks with one name (they would manage
each other's endpoints). Hidden folders, `.git`, `.venv` and `node_modules` are not searched.
Nothing here runs git: the changed files are given (`cli.stacks` asks git for them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from provisioner.spec.diagnostics import Diagnostics, Mark, display_path
from provisioner.spec.stack import SETTINGS_NAMES, read_settings

SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__"})


@dataclass(frozen=True)
class FoundStack:
    """A stack under the root: its folder, its settings file and its name."""

    folder: Path
    settings_file: Path
    name: str


def _skipped(name: str) -> bool:
    # `.git`, `.venv`, `.provisioner` (local state) and every other hidden folder.
    return name.startswith(".") or name in SKIPPED_FOLDERS


def _settings_file(folder: Path, files: Iterable[str]) -> Path | None:
    names = set(files)
    return next((folder / n for n in SETTINGS_NAMES if n in names), None)


def find_stacks(root: Path) -> tuple[list[FoundStack], Diagnostics]:
    """The stacks under `root` (`root` itself may be one), sorted by folder; a nested stack, two
    stacks with one name, a root that is no folder or holds no stack are errors."""
    diagnostics = Diagnostics()
    if not root.is_dir():
        found = "not found" if not root.exists() else "not a directory"
        diagnostics.error(Mark(display_path(root)), f"stack root {found}")
        return [], diagnostics
    stacks: list[FoundStack] = []
    for top, folders, files in os.walk(root, followlinks=False):
        folders[:] = sorted(name for name in folders if not _skipped(name))
        folder = Path(top)
        settings_file = _settings_file(folder, files)
        if settings_file is None:
            continue
        outer = next((s for s in stacks if folder.is_relative_to(s.folder)), None)
        if outer is not None:
            diagnostics.error(
                Mark(display_path(settings_file)),
                f"a stack inside the folder of stack {outer.name!r} "
                f"({display_path(outer.settings_file)}): a stack's specs are every YAML file "
                "below its folder, so stack folders cannot nest; move this one beside it",
            )
            continue
        settings, problems = read_settings(folder)
        diagnostics.extend(problems)
        stacks.append(FoundStack(folder, settings_file, settings.stack))
    by_name: dict[str, FoundStack] = {}
    for stack in stacks:
        first = by_name.setdefault(stack.name, stack)
        if first is not stack:
            diagnostics.error(
                Mark(display_path(stack.settings_file)),
                f"stack name {stack.name!r} is also the name of the stack at "
                f"{display_path(first.settings_file)}: two stacks with one name manage each "
                "other's endpoints; set a different 'stack:' in one of them",
            )
    if not stacks and not diagnostics.has_errors:
        diagnostics.error(
            Mark(display_path(root)),
            "no stack under this folder: a stack is a folder holding _settings.yaml",
        )
    return stacks, diagnostics


def changed(stacks: Iterable[FoundStack], files: Iterable[Path]) -> list[FoundStack]:
    """The stacks with one of `files` (absolute paths) in their folder: a spec, a defaults file
    or the settings file added, changed or removed."""
    paths = [f.resolve() for f in files]
    return [s for s in stacks if any(p.is_relative_to(s.folder.resolve()) for p in paths)]
