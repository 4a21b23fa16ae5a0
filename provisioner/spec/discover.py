"""Which files under a spec directory are read, and a word for every one that is not.

Nothing is skipped silently: a spec that is not read is a spec whose endpoint the next apply
would delete. Symbolic links are followed (a linked folder of specs is read like any other),
with loop detection; a dangling link, a loop, an unreadable folder or something that is not a
regular file is an error at its path; hidden entries and files that are not YAML are reported
as warnings, except `.provisioner/`, the state folder (never specs, so never mentioned).
`.yaml` and `.yml` are matched whatever their case. A folder with more entries
below it than any stack has is refused as a whole, quickly, instead of walked.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from provisioner.spec.diagnostics import Diagnostics, Mark, display_path

YAML_SUFFIXES = (".yaml", ".yml")
# The local state backend's folder (provisioner.state.open): in the spec directory when it is
# not in a git repository, or when it is the repository's root.
STATE_FOLDER = ".provisioner"
# Files and folders below a spec directory, all counted. A stack has tens or hundreds of specs;
# ten thousand entries means --dir names something else (`/`, a home folder, a repository root).
MAX_ENTRIES = 10_000


def _mark(path: Path) -> Mark:
    """Where a diagnostic about `path` itself points: the link, not what it leads to."""
    return Mark(display_path(path, follow_links=False))


def _file(path: Path, diagnostics: Diagnostics) -> bool:
    """Whether `path` (an entry that is not a directory) is a YAML file to read."""
    if path.name.startswith("."):
        diagnostics.warning(_mark(path), "hidden file: not read")
        return False
    # A spec costs one `stat` here: a YAML name that leads to a regular file passes every check
    # below (it is no dangling link, and `is_file` is this same `stat`). Anything else goes
    # through them, and they say what it is.
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError:
        regular = False
    if regular and path.suffix.lower() in YAML_SUFFIXES:
        return True
    if path.is_symlink() and not path.exists():
        target = path.readlink()
        diagnostics.error(_mark(path), f"dangling symbolic link (to {target}): nothing to read")
        return False
    if path.suffix.lower() not in YAML_SUFFIXES:
        diagnostics.warning(_mark(path), "not a spec (only .yaml and .yml files are read)")
        return False
    if not path.is_file():
        diagnostics.error(_mark(path), "not a regular file: nothing to read")
        return False
    return True


def _folders(
    folder: Path, names: list[str], seen: dict[str, Path], diagnostics: Diagnostics
) -> list[str]:
    """The sub-folders of `folder` to walk into: not hidden, not leading back to one seen."""
    kept = []
    for name in sorted(names):
        path = folder / name
        if name == STATE_FOLDER:
            continue
        if name.startswith("."):
            diagnostics.warning(_mark(path), "hidden folder: not read")
            continue
        real = os.path.realpath(path)
        if real in seen:
            diagnostics.error(
                _mark(path), f"symbolic link loop: leads back to {_mark(seen[real]).file}"
            )
            continue
        seen[real] = path
        kept.append(name)
    return kept


class _TooMany(Exception):
    """The walk met more than `MAX_ENTRIES` entries: not a spec directory."""


def _walk(root: Path, diagnostics: Diagnostics) -> list[Path]:
    found: list[Path] = []
    seen = {os.path.realpath(root): root}
    entries = 0

    def unreadable(error: OSError) -> None:
        where = Path(error.filename) if error.filename else root
        diagnostics.error(_mark(where), f"cannot read folder: {error.strerror}")

    for top, folders, files in os.walk(root, onerror=unreadable, followlinks=True):
        entries += len(folders) + len(files)
        if entries > MAX_ENTRIES:
            raise _TooMany
        folder = Path(top)
        folders[:] = _folders(folder, folders, seen, diagnostics)
        kept = [path for path in (folder / name for name in files) if _file(path, diagnostics)]
        # By name first (text, compared in C), so that the sort of every path below meets runs
        # already in order instead of comparing Path objects ~10 times per file.
        kept.sort(key=lambda path: path.name)
        found.extend(kept)
    return sorted(found)


def git_root(start: Path) -> Path | None:
    """The nearest folder from `start` up holding a `.git` entry (a folder, or a worktree's
    file), or None outside any repository: where the state folder goes (`state.open`)."""
    start = start.absolute()
    return next((d for d in (start, *start.parents) if (d / ".git").exists()), None)


def yaml_files(root: Path, diagnostics: Diagnostics) -> list[Path]:
    """Every YAML file under `root`, sorted; everything else reported in `diagnostics`.

    A folder with more than `MAX_ENTRIES` files and folders below it is refused as a whole
    (`--dir /`, a home folder): walking it would take minutes and report thousands of files
    that are not specs. Nothing in it is read, so nothing is planned from it."""
    walked = Diagnostics()
    try:
        found = _walk(root, walked)
    except _TooMany:
        diagnostics.error(
            _mark(root),
            f"more than {MAX_ENTRIES} files and folders below this folder: it is not a spec "
            "directory; pass the folder that holds the stack's specs (--dir)",
        )
        return []
    diagnostics.extend(walked)
    return found
