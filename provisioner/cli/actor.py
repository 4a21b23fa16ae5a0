"""Who is running this command, for the lock and the history: the user, the host, the process,
the CI run's URL and the git commit and branch, from the CI's variables where there are some,
else from the process and `git`; and whether the stack's folder has uncommitted changes (`git`
only: the CI's variables cannot say).
"""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Mapping
from pathlib import Path

from provisioner.apply.recording import Actor

# CI run URLs, by the variables each CI sets (first match wins).
_RUN_URLS = (
    ("GITHUB_RUN_ID", "{GITHUB_SERVER_URL}/{GITHUB_REPOSITORY}/actions/runs/{GITHUB_RUN_ID}"),
    ("CI_JOB_URL", "{CI_JOB_URL}"),  # GitLab
    ("BUILDKITE_BUILD_URL", "{BUILDKITE_BUILD_URL}"),
    ("CIRCLE_BUILD_URL", "{CIRCLE_BUILD_URL}"),
    ("BUILD_URL", "{BUILD_URL}"),  # Jenkins
)
_USERS = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILDKITE_BUILD_CREATOR", "USER", "LOGNAME")
_COMMITS = ("GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "CIRCLE_SHA1", "GIT_COMMIT")
_BRANCHES = (
    "GITHUB_HEAD_REF",  # a pull request's branch (GITHUB_REF_NAME is then "123/merge")
    "GITHUB_REF_NAME",
    "CI_COMMIT_REF_NAME",
    "BUILDKITE_BRANCH",
    "CIRCLE_BRANCH",
    "GIT_BRANCH",
)


def _first(environ: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    return next((environ[n] for n in names if environ.get(n)), None)


def ci_url(environ: Mapping[str, str]) -> str | None:
    for marker, template in _RUN_URLS:
        if environ.get(marker):
            try:
                return template.format_map(environ)
            except KeyError:
                continue
    return None


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out and out != "HEAD" else None


def dirty(root: Path) -> bool | None:
    """Whether the checkout has changes under `root` (the stack's folder) that its commit does
    not hold: a modified, staged, deleted or new (untracked, not ignored) file. Files elsewhere
    in the repository are not what this stack applies, so they do not count. None: unknown
    (not a git checkout, or no `git`)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=all", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(done.stdout.strip()) if done.returncode == 0 else None


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no USER variable and no password entry
        return "unknown"


def actor(environ: Mapping[str, str], *, root: Path, host: str, pid: int) -> Actor:
    return Actor(
        who=_first(environ, _USERS) or _login(),
        host=host,
        pid=pid,
        ci_url=ci_url(environ),
        git_commit=_first(environ, _COMMITS) or _git(root, "rev-parse", "HEAD"),
        git_branch=_first(environ, _BRANCHES) or _git(root, "rev-parse", "--abbrev-ref", "HEAD"),
        git_dirty=dirty(root),
    )
