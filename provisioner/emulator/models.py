"""The Hub's model info route, just enough for `HfApi.model_info(repo_id, revision=...)`, and an
admin control to move a branch or change a repository's visibility.

Every syntactically valid repository id (the Hub's rule, as huggingface_hub checks it) is a public
model, so a user's own spec deploys without declaring its model first. A small catalog names the
exceptions and the repositories tests move branches of: the examples' public models, a private,
a gated and an absent one, and whatever `POST /admin/models` changed. A repository's
default-branch commit starts as `schema.resolve_revision(repository)`, the commit an endpoint
created without a revision carries, so both views of "main" agree until a test moves it.

Errors answer as the Hub does, with the `X-Error-Code` huggingface_hub maps to its exceptions:
an absent, private or malformed repository is `RepoNotFound` (401 without a valid token, else
404), a gated one `GatedRepo` (403), an unknown revision `RevisionNotFound` (404).
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from provisioner.emulator.auth import Directory
from provisioner.emulator.schema import resolve_revision
from provisioner.emulator.wire import ApiError, Request, Response, json_response

PUBLIC = (
    "gpt2",
    "distilgpt2",
    "google/flan-t5-base",
    "Qwen/Qwen2.5-7B-Instruct",
    "microsoft/DialoGPT-medium",
    "meta-llama/Llama-3.2-1B",
    "meta-llama/Llama-3.2-3B-Instruct",
    "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
    "BAAI/bge-small-en-v1.5",
)
PRIVATE = ("acme/private-model",)
GATED = ("acme/gated-model",)
# Named so that a test of "the repository does not exist" need not rely on an unlisted name
# (every other valid id exists).
ABSENT = ("acme/absent-model",)
VISIBILITIES = ("public", "private", "gated", "absent")
_COMMIT = re.compile(r"[0-9a-f]{40}")
# huggingface_hub's `validate_repo_id` (the Hub's own rule): `name` or `namespace/name`, ASCII
# letters, digits, `-`, `_`, `.`, not starting or ending with `-` or `.`, each part at most 96.
_REPO_ID = re.compile(r"(\b[\w\-.]{1,96}\b/)?\b[\w\-.]{1,96}\b", re.ASCII)


def valid_repo_id(repo_id: str) -> bool:
    return (
        _REPO_ID.fullmatch(repo_id) is not None
        and "--" not in repo_id
        and ".." not in repo_id
        and not repo_id.endswith(".git")
    )


def _commit(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


@dataclass
class Repo:
    id: str
    private: bool = False
    gated: bool = False
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    moves: int = 0

    @classmethod
    def seeded(cls, repo_id: str, *, private: bool = False, gated: bool = False) -> Repo:
        main = resolve_revision(repo_id)
        # Tags (v1.0 on the first commit) and a second branch, so other names resolve too.
        tags = {"v1.0": main, "v1": _commit(f"{repo_id}@v1"), "v2": _commit(f"{repo_id}@v2")}
        branches = {"main": main, "dev": _commit(f"{repo_id}@dev")}
        return cls(repo_id, private, gated, branches, tags)

    def commit_of(self, revision: str) -> str | None:
        if revision in self.branches:
            return self.branches[revision]
        if revision in self.tags:
            return self.tags[revision]
        # Any full commit id is taken as one of the repository's commits: the emulator keeps no
        # history to check it against.
        return revision if _COMMIT.fullmatch(revision) else None

    @property
    def visibility(self) -> str:
        return "private" if self.private else "gated" if self.gated else "public"


def _not_found(status: int, code: str, message: str) -> ApiError:
    headers = (("X-Error-Code", code), ("X-Error-Message", message))
    return ApiError(status, message, prefix=False, headers=headers)


class Models:
    """The catalog: `GET /api/models/{repo}[/revision/{rev}]` and `POST /admin/models`."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._repos: dict[str, Repo] = {}
        self._absent: set[str] = set()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._repos = {r: Repo.seeded(r) for r in PUBLIC}
            self._repos.update({r: Repo.seeded(r, private=True) for r in PRIVATE})
            self._repos.update({r: Repo.seeded(r, gated=True) for r in GATED})
            self._absent = set(ABSENT)

    def _find(self, repo_id: str) -> Repo | None:
        """The repository (a listed one, else a public one seeded from its id), None when it is
        absent or its id is not one the Hub accepts. Called with the lock held."""
        if repo_id in self._absent or not valid_repo_id(repo_id):
            return None
        return self._repos.get(repo_id) or Repo.seeded(repo_id)

    def info(self, req: Request, repo_id: str, revision: str | None) -> Response:
        caller = self._directory.identify(req)
        with self._lock:
            repo = self._find(repo_id)
            if repo is None or repo.private:
                # A private repository is not found even with a valid token: the demo users
                # own no repositories. Without a valid token the Hub answers 401.
                status = 401 if caller is None else 404
                raise _not_found(status, "RepoNotFound", "Repository not found")
            if repo.gated:
                raise _not_found(
                    403,
                    "GatedRepo",
                    f"Access to model {repo_id} is restricted and you are not in the authorized "
                    "list. Visit the model page to ask for access.",
                )
            sha = repo.commit_of(revision or "main")
            if sha is None:
                raise _not_found(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return json_response(200, _info(repo, sha))

    def admin(self, req: Request, body: Any) -> Response:
        """`POST /admin/models` `{"repository", "branch"?, "sha"?, "visibility"?}`: point a
        branch (default main) at `sha`, or at a new commit, creating the repository or branch if
        needed; with `visibility` alone, only make the repository public, private, gated or
        absent."""
        if req.method != "POST":
            raise ApiError(405, "allowed: POST", headers=(("Allow", "POST"),))
        usage = 'expected {"repository": str, "branch"?: str, "sha"?: str, "visibility"?: str}'
        if not isinstance(body, dict) or not isinstance(body.get("repository"), str):
            raise ApiError(400, usage)
        unknown = sorted(set(body) - {"repository", "branch", "sha", "visibility"})
        if unknown:
            raise ApiError(400, f"unknown keys: {', '.join(unknown)}; {usage}")
        repository = body["repository"]
        if not valid_repo_id(repository):
            raise ApiError(400, f"repository: {repository!r} is not a valid Hub repository id")
        sha = body.get("sha")
        if sha is not None and not (isinstance(sha, str) and _COMMIT.fullmatch(sha)):
            raise ApiError(400, "sha: expected 40 hex digits")
        visibility = body.get("visibility")
        if visibility is not None and visibility not in VISIBILITIES:
            raise ApiError(400, f"visibility: expected one of {', '.join(VISIBILITIES)}")
        branch = body.get("branch")
        if branch is not None and not (isinstance(branch, str) and branch):
            raise ApiError(400, "branch: expected a non-empty string")
        if visibility is not None:
            if visibility == "absent" and (branch is not None or sha is not None):
                raise ApiError(400, "an absent repository has no branch to move")
            self.set_visibility(repository, visibility)
            if branch is None and sha is None:
                return json_response(200, {"repository": repository, "visibility": visibility})
        branch = branch or "main"
        moved = self.move(repository, branch, sha)
        out = {"repository": repository, "branch": branch, "sha": moved}
        return json_response(200, {**out, "visibility": visibility or self.visibility(repository)})

    def visibility(self, repo_id: str) -> str:
        with self._lock:
            repo = self._find(repo_id)
            return "absent" if repo is None else repo.visibility

    def set_visibility(self, repo_id: str, visibility: str) -> None:
        """Make `repo_id` public, private, gated or absent (forgetting its branches); `reset()`
        puts the catalog back as it started."""
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
        with self._lock:
            if visibility == "absent":
                self._repos.pop(repo_id, None)
                self._absent.add(repo_id)
                return
            self._absent.discard(repo_id)
            repo = self._repos.setdefault(repo_id, Repo.seeded(repo_id))
            repo.private, repo.gated = visibility == "private", visibility == "gated"

    def move(self, repo_id: str, branch: str = "main", sha: str | None = None) -> str:
        """Point `branch` of `repo_id` at `sha` (default: a new commit); returns the commit.
        A push creates the repository: an absent one becomes public."""
        with self._lock:
            self._absent.discard(repo_id)
            repo = self._repos.setdefault(repo_id, Repo.seeded(repo_id))
            repo.moves += 1
            repo.branches[branch] = sha or _commit(f"{repo_id}@{branch}#{repo.moves}")
            return repo.branches[branch]


def _info(repo: Repo, sha: str) -> dict[str, Any]:
    author = repo.id.split("/")[0] if "/" in repo.id else None
    return {
        "_id": _commit(repo.id)[:24],
        "id": repo.id,
        "modelId": repo.id,
        "author": author,
        "sha": sha,
        "private": repo.private,
        "gated": repo.gated,
        "disabled": False,
        "tags": [],
        "siblings": [],
    }


def model_route(segs: list[str]) -> tuple[str, str | None] | None:
    """(repository, revision) of `api/models/{repo}` or `api/models/{repo}/revision/{rev}`."""
    if len(segs) < 3 or segs[:2] != ["api", "models"]:
        return None
    rest = segs[2:]
    if len(rest) >= 3 and rest[-2] == "revision":
        return "/".join(rest[:-2]), rest[-1]
    return "/".join(rest), None
