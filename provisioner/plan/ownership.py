"""Ownership, protection and last-applied markers, stored as tags on the endpoint itself.

No state file is needed to know what a stack owns: an endpoint is managed by stack S when it
carries `provisioner-stack-S`. `provisioner-protected` survives the spec file being deleted.
`provisioner-applied-<16 hex>` records a digest of the declared configuration last applied,
which is how a difference is attributed to a change made outside provisioner (drift) rather
than to an edited spec.

The form is the most conservative one (reference section 10, "Tags"): nothing documents which
characters, lengths or counts of tags the service accepts, and its docs' only example is
`for-testing`. So the markers use lowercase letters, digits and `-` only, at most 64
characters each (`spec.checks.is_conservative_tag`), and at most three of them. The stack tag
stays within 64 because a stack name is at most 40 characters (`spec.stack.STACK_NAME_MAX`).

History: before this form, the markers were `provisioner.stack=S`, `provisioner.protected` and
`provisioner.applied=<digest>`. Endpoints applied then still carry them, so every reader here
accepts both forms (such an endpoint is still owned, protected, its digest known), while
`tags_for` writes only the new one: `needs_rewrite` tells the planner to rewrite them, which
the first apply after upgrading does as a tags-only update.

Must not: do I/O, or decide anything beyond reading and writing these markers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

PREFIX = "provisioner"
STACK = "provisioner-stack-"
PROTECTED = "provisioner-protected"
APPLIED = "provisioner-applied-"

DIGEST_HEX = 16

# The form written before (read, never written).
LEGACY_STACK = "provisioner.stack="
LEGACY_PROTECTED = "provisioner.protected"
LEGACY_APPLIED = "provisioner.applied="


def is_reserved(tag: str) -> bool:
    return tag.lower().startswith(PREFIX)


def _value(tags: Iterable[str], *prefixes: str) -> str | None:
    for prefix in prefixes:
        for tag in tags:
            if tag.startswith(prefix) and len(tag) > len(prefix):
                return tag[len(prefix) :]
    return None


def owner(tags: Iterable[str]) -> str | None:
    """The stack that manages an endpoint with these tags, if any (either form)."""
    return _value(tuple(tags), STACK, LEGACY_STACK)


def applied_digest(tags: Iterable[str]) -> str | None:
    """The digest of the spec last applied (either form)."""
    return _value(tuple(tags), APPLIED, LEGACY_APPLIED)


def is_protected(tags: Iterable[str]) -> bool:
    found = set(tags)
    return PROTECTED in found or LEGACY_PROTECTED in found


def is_legacy(tag: str) -> bool:
    return tag == LEGACY_PROTECTED or tag.startswith((LEGACY_STACK, LEGACY_APPLIED))


def needs_rewrite(tags: Iterable[str]) -> bool:
    """Does the endpoint carry markers in the old form (which an update rewrites)?"""
    return any(is_legacy(tag) for tag in tags)


def user_tags(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(t for t in tags if not is_reserved(t)))


def digest(declared: Any) -> str:
    """A short, stable digest of JSON-ready data (never of secret values)."""
    text = json.dumps(declared, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_HEX]


def tags_for(
    user: Iterable[str], *, stack: str, protected: bool, applied: str | None
) -> tuple[str, ...]:
    """The user's tags plus the markers, in the conservative form only."""
    tags = {*user, f"{STACK}{stack}"}
    if protected:
        tags.add(PROTECTED)
    if applied:
        tags.add(f"{APPLIED}{applied}")
    return tuple(sorted(tags))
