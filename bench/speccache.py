"""Cold and warm, for the spec cache (issue 24): where a spec folder's cache is, emptying it
before a cold run, and refusing a warm run that would find nothing.

The spec cache keeps the result of loading and checking each spec file, keyed by its content, so
a run re-checks only the files that changed. It lives in `<base>/.provisioner/cache/`, `<base>`
being the root of the git repository holding the spec folder, or the folder itself outside a
repository (the bench's folders are in a temporary folder, outside any). A "cold" figure is a
run with no cache folder at all (the first run on a fresh CI runner); a "warm" one, a run after
a previous run of the same folder wrote it. Both are checked, never assumed: a cold figure
taken over a cache, or a warm one over none, would make the comparison say nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from provisioner.state.open import DEFAULT_FOLDER, git_root

IGNORE_FILE = ".gitignore"  # the folder's own `*`, written with it: not an entry


def folder(spec_dir: Path) -> Path:
    """The spec cache folder provisioner uses for `spec_dir`."""
    return (git_root(spec_dir) or spec_dir.absolute()) / DEFAULT_FOLDER / "cache"


def entries(spec_dir: Path) -> list[Path]:
    """The files of the cache (not its `.gitignore`), sorted; none when there is no folder."""
    found = folder(spec_dir)
    if not found.is_dir():
        return []
    return sorted(p for p in found.rglob("*") if p.is_file() and p.name != IGNORE_FILE)


def make_cold(spec_dir: Path) -> None:
    """Remove the cache folder, so the next run finds no cache and writes one."""
    found = folder(spec_dir)
    shutil.rmtree(found, ignore_errors=True)
    if found.exists():
        raise RuntimeError(f"cannot remove the spec cache {found}: a cold run would not be cold")


def check_warm(spec_dir: Path) -> None:
    """Refuse to measure a warm run when no previous run wrote the cache."""
    if not entries(spec_dir):
        raise RuntimeError(
            f"no spec cache in {folder(spec_dir)} after a run of {spec_dir}: "
            "a warm run would be cold (is PROVISIONER_SPEC_CACHE=off, or the cache not written?)"
        )
