"""Values that cross the API boundary: live endpoints, hardware, and what create/update send.

Everything here is API-level (the service's field names and units) but already normalised, so
higher layers never see raw JSON. Secret values appear only in `Secrets`, which is built at apply
time from the environment and is never serialised or printed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class EndpointState(enum.StrEnum):
    PENDING = "pending"
    INITIALIZING = "initializing"
    UPDATING = "updating"
    UPDATE_FAILED = "updateFailed"
    RUNNING = "running"
    PAUSED = "paused"
    FAILED = "failed"
    SCALED_TO_ZERO = "scaledToZero"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Image:
    """`model.image`: one variant key (`huggingface`, `custom`, `tgi`, `vLLM`, ...) and its fields,
    in the API's camelCase. Registry credentials are never carried (the API redacts them)."""

    variant: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    has_credentials: bool = False

    def payload(self) -> dict[str, Any]:
        return {self.variant: dict(self.fields)}


@dataclass(frozen=True)
class PrivateLink:
    account_id: str
    region: str


@dataclass(frozen=True)
class Config:
    """An endpoint's configuration, in API terms, without its status."""

    repository: str
    framework: str
    image: Image
    vendor: str
    region: str
    accelerator: str
    instance_type: str
    instance_size: str
    min_replica: int
    max_replica: int
    type: str
    revision: str | None = None
    task: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    # The names of its secrets; None when the service did not say (no `model.secrets` in its
    # response): whether the real API echoes them is unknown, so "unknown" is not "none".
    secret_keys: frozenset[str] | None = frozenset()
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    scale_to_zero_timeout: int | None = None
    metric: str | None = None
    threshold: float | None = None
    private_link: PrivateLink | None = None
    route_domain: str | None = None
    route_path: str | None = None
    cache_http_responses: bool | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveEndpoint:
    namespace: str
    name: str
    config: Config
    state: EndpointState
    message: str = ""
    url: str | None = None
    health_route: str = "/health"
    ready_replicas: int = 0
    target_replicas: int = 0
    created_at: str = ""
    updated_at: str = ""

    @property
    def address(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Answer:
    """What an endpoint's own URL answered a request (a smoke test): the status and the body as
    text, the caller's token blanked out of it."""

    status: int
    text: str


@dataclass(frozen=True)
class Unreadable:
    """An item of a list response that cannot be read as an endpoint (a key the client requires
    is missing, or has the wrong type). It is named, so that nothing is planned for its name.

    `name` is None when the item has no usable name (then `position`, its index in the list,
    tells it apart); `tags` is None when its tags cannot be read either (ownership unknown).
    A name that fails the spec's name rule is never a `name` (nothing may key on it, or put it
    in a path): `listed_as` keeps it, quoted (`repr`, cut short), for messages only.
    """

    namespace: str
    name: str | None
    problem: str
    position: int = 0
    tags: tuple[str, ...] | None = None
    listed_as: str | None = None

    @property
    def address(self) -> str:
        if self.name is None and self.listed_as is not None:
            return f"{self.namespace}/{self.listed_as}"
        if self.name is None:
            return f"{self.namespace}/(item {self.position + 1} of the list, no name)"
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Listing:
    """One namespace's list: the endpoints read, and the items that could not be."""

    endpoints: tuple[LiveEndpoint, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()


@dataclass(frozen=True)
class Hardware:
    """One row of `GET /v2/provider/{namespace}`: an instance and this namespace's quota for it."""

    vendor: str
    region: str
    accelerator: str
    instance_type: str
    instance_size: str
    status: str
    price_per_hour: float
    num_accelerators: int
    quota_max: int
    quota_used: int

    @property
    def deployable(self) -> bool:
        """The service refuses `deprecated` and `not_available` hardware."""
        return self.status not in ("deprecated", "not_available")


@dataclass(frozen=True, repr=False)
class Secrets:
    """Secret values read from the environment at apply time. `repr` never shows values."""

    values: Mapping[str, str]

    def __repr__(self) -> str:
        return f"Secrets(keys={sorted(self.values)})"


@dataclass(frozen=True)
class Identity:
    """Who the token belongs to: the user's namespace and the organisations it can use."""

    user: str
    orgs: tuple[str, ...] = ()

    @property
    def namespaces(self) -> tuple[str, ...]:
        return (self.user, *self.orgs)


_COMMIT = re.compile(r"[0-9a-f]{40}")


def is_commit(revision: str | None) -> bool:
    """Whether a revision is a full commit id (40 hex digits) rather than a branch or tag."""
    return revision is not None and _COMMIT.fullmatch(revision) is not None


@dataclass(frozen=True)
class Commit:
    """What the Hub's model info said a (repository, revision) is: its commit sha, or why the
    token cannot know (`problem`, the Hub's answer; `unknown_revision`: the repository is
    readable but has no such branch, tag or commit)."""

    sha: str | None = None
    problem: str | None = None
    unknown_revision: bool = False


# (repository, revision) -> its commit; revision None is the repository's default branch.
Commits = Mapping[tuple[str, str | None], Commit]


@dataclass(frozen=True)
class Fleet:
    """Everything read from the API before planning: endpoints and hardware per namespace, and
    the listed items that could not be read (never planned as absent), the namespaces that could
    not be listed, and the commits the specs' revisions (and live branch names) resolve to."""

    endpoints: Mapping[str, tuple[LiveEndpoint, ...]] = field(default_factory=dict)
    hardware: Mapping[str, tuple[Hardware, ...]] = field(default_factory=dict)
    unreadable: Mapping[str, tuple[Unreadable, ...]] = field(default_factory=dict)
    # Namespaces the token can use that could not be listed (why): this stack's endpoints there,
    # if any, are not in the plan, which must say so.
    unlisted: Mapping[str, str] = field(default_factory=dict)
    commits: Commits = field(default_factory=dict)

    def index(self) -> dict[tuple[str, str], LiveEndpoint]:
        """Every endpoint by (namespace, name)."""
        return {(e.namespace, e.name): e for group in self.endpoints.values() for e in group}
