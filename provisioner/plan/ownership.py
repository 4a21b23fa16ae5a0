"""Ownership, protection and last-applied markers, stored as tags on the endpoint itself.

No state file is needed to know what a stack owns: an endpoint is managed by stack S when it
carries `provisioner.stack=S`. `provisioner.protected` survives the spec file being deleted.
`provisioner.applied=<digest>` records a digest of the declared configuration last applied,
which is how a difference is attributed to a change made outside provisioner (drift) rather
than to an edited spec.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

PREFIX = "provisioner"
STACK = "provisioner.stack="
PROTECTED = "provisioner.protected"
APPLIED = "provisioner.applied="


def is_reserved(tag: str) -> bool:
    return tag.lower().startswith(PREFIX)


def owner(tags: Iterable[str]) -> str | None:
    """The stack that manages an endpoint with these tags, if any."""
    for tag in tags:
        if tag.startswith(STACK):
            return tag[len(STACK) :]
    return None


def applied_digest(tags: Iterable[str]) -> str | None:
    for tag in tags:
        if tag.startswith(APPLIED):
            return tag[len(APPLIED) :]
    return None


def is_protected(tags: Iterable[str]) -> bool:
    return PROTECTED in tags


def user_tags(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(t for t in tags if not is_reserved(t)))


def digest(declared: Any) -> str:
    """A short, stable digest of JSON-ready data (never of secret values)."""
    text = json.dumps(declared, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def tags_for(
    user: Iterable[str], *, stack: str, protected: bool, applied: str | None
) -> tuple[str, ...]:
    tags = {*user, f"{STACK}{stack}"}
    if protected:
        tags.add(PROTECTED)
    if applied:
        tags.add(f"{APPLIED}{applied}")
    return tuple(sorted(tags))
