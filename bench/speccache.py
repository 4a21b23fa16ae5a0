"""Cold and warm, for the spec cache (issue 24, `provisioner.spec.cache`): where a spec
folder's cache file is, removing its folder before a cold run, and refusing a warm run that would
find no file.

The spec cache keeps the result of loading and checking each spec file, keyed by its content, so
a run re-checks only the files that changed. It is one file per stack in
`<base>/.provisioner/cache/`, `<base>` being the root of the git repository holding the spec
folder, or the folder itself outside a repository (the bench's folders are in a temporary
folder, outside any; the harness's environment has no `PROVISIONER_SPEC_CACHE`). A "cold" figure
is a run with no cache folder at all (the first run on a fresh CI runner); a "warm" one, a run
after a previous run of the same folder wrote its file. Both are checked, never assumed: a cold
figure taken over a cache, or a warm one over none, would make the comparison say nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from provisioner.spec.cache import location


def cache_file(spec_dir: Path) -> Path:
    """The file provisioner keeps `spec_dir`'s cache in (the harness sets no variable)."""
    return location(spec_dir, {})


def folder(spec_dir: Path) -> Path:
    return cache_file(spec_dir).parent


def make_cold(spec_dir: Path) -> None:
    """Remove the cache folder, so the next run finds no cache and writes one."""
    found = folder(spec_dir)
    shutil.rmtree(found, ignore_errors=True)
    if found.exists():
        raise RuntimeError(f"cannot remove the spec cache {found}: a cold run would not be cold")


def check_warm(spec_dir: Path) -> None:
    """Refuse to measure a warm run when no previous run wrote the cache file."""
    if not cache_file(spec_dir).is_file():
        raise RuntimeError(
            f"no spec cache {cache_file(spec_dir)} after a run of {spec_dir}: "
            "a warm run would be cold (is PROVISIONER_SPEC_CACHE=off, or the cache not written?)"
        )
