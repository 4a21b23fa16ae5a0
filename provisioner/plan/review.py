"""What a reviewer of a change should not miss, as data: a code plus the values its sentence
needs (the words are the renderers', as for reasons). Pure: read from the change alone (its
action, steps, fields, desired configuration and cost), so a saved plan gives the same warnings.

- `url-changes`: a replacement deletes the endpoint and creates a new one, at a new URL;
- `deletion`: the endpoint is deleted;
- `public-access`: the endpoint becomes reachable without a token (type `public`);
- `unpinned-revision`: the model deployed comes from a branch or tag (or the default branch),
  not a declared 40-hex commit, so a later plan deploys whatever the name then points at;
- `gpu-added`: the most GPUs it may run at once goes up (a GPU create, upgrade or resume).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from provisioner.hub.models import is_commit
from provisioner.plan.model import DEFAULT_BRANCH, Action, ResourceChange


class WarningCode(enum.StrEnum):
    URL_CHANGES = "url-changes"
    DELETION = "deletion"
    PUBLIC_ACCESS = "public-access"
    UNPINNED_REVISION = "unpinned-revision"
    GPU_ADDED = "gpu-added"


@dataclass(frozen=True)
class ReviewWarning:
    code: WarningCode
    revision: str | None = None  # unpinned-revision: the name deployed (or "default branch")
    gpus_before: int | None = None  # gpu-added
    gpus_after: int | None = None


# Field paths whose change deploys the model again.
_MODEL_PATHS = ("model.revision", "model.repository")


def _deploys_model(change: ResourceChange) -> bool:
    if change.action in (Action.CREATE, Action.REPLACE):
        return True
    return change.action is Action.UPDATE and any(f.path in _MODEL_PATHS for f in change.fields)


def _unpinned(change: ResourceChange) -> ReviewWarning | None:
    if change.desired is None or not _deploys_model(change):
        return None
    declared = change.revision_from
    if declared is None:  # planned without resolving: what is sent is what was declared
        declared = change.desired.revision or DEFAULT_BRANCH
    if is_commit(declared):
        return None
    return ReviewWarning(WarningCode.UNPINNED_REVISION, revision=declared)


def _public(change: ResourceChange) -> bool:
    if change.desired is None or change.desired.type != "public":
        return False
    if change.action in (Action.CREATE, Action.REPLACE):
        return True
    return any(f.path == "type" and f.after == "public" for f in change.fields)


def _gpus(change: ResourceChange) -> ReviewWarning | None:
    cost = change.cost
    if cost is None or not change.is_change:
        return None
    before = 0 if cost.before is None else cost.before.gpus
    after = 0 if cost.after is None else cost.after.gpus
    if after <= before:
        return None
    return ReviewWarning(WarningCode.GPU_ADDED, gpus_before=before, gpus_after=after)


def review_warnings(change: ResourceChange) -> tuple[ReviewWarning, ...]:
    """The change's warnings, in the order of `WarningCode`."""
    found: list[ReviewWarning] = []
    if change.action is Action.REPLACE:
        found.append(ReviewWarning(WarningCode.URL_CHANGES))
    if change.action is Action.DELETE:
        found.append(ReviewWarning(WarningCode.DELETION))
    if _public(change):
        found.append(ReviewWarning(WarningCode.PUBLIC_ACCESS))
    for optional in (_unpinned(change), _gpus(change)):
        if optional is not None:
            found.append(optional)
    return tuple(found)


def actions(change: ResourceChange) -> tuple[str, ...]:
    """What the change does to the endpoint, in order, as Terraform's JSON plan says it: a
    replacement is `("delete", "create")`, a create paused at once `("create", "pause")`, a
    change that does nothing (kept, refused) `("no-op",)`."""
    return tuple(s.value for s in change.steps) or (Action.NOOP.value,)
