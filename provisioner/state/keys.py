"""What a backend key may be: the one rule every backend checks, so they all refuse the same keys.

A key is relative and `/`-separated: `state.json`, `history/20261128T171500Z-1a2b.json`. No part
is empty, `.` or `..`, or starts with `.` (the local backend keeps its own files, such as its
write lock and temporary files, under such names, and S3 keys follow the same rule so the two
backends list the same things), and no part holds a backslash or a control character. The names
the lock protocol uses (`lock`, `lock.json`) are reserved at the top level: the lock is reached
through `acquire`/`release`, never as an object.

Rule: pure; a bad key is a bug in the caller (`ValueError`), not a user mistake.
"""

from __future__ import annotations

RESERVED = frozenset({"lock", "lock.json"})


def check_key(key: str) -> str:
    """`key`, or `ValueError` saying what is wrong with it."""
    parts = key.split("/")
    for part in parts:
        if part in ("", ".", "..") or part.startswith("."):
            raise ValueError(f"bad state key {key!r}: empty, '.', '..' or hidden part")
        if "\\" in part or any(ord(c) < 32 or ord(c) == 127 for c in part):
            raise ValueError(f"bad state key {key!r}: backslash or control character")
    if len(parts) == 1 and key in RESERVED:
        raise ValueError(f"state key {key!r} is reserved for the lock")
    return key


def check_prefix(prefix: str) -> str:
    """A `keys()` prefix: empty, or the start of a key (it may end in the middle of a part, or
    with `/`)."""
    if prefix:
        head = prefix.rstrip("/")
        # Only whole parts are checked; the last one may be cut short (`history/2026`).
        for part in head.split("/"):
            if part in ("", ".", "..") or part.startswith(".") or "\\" in part:
                raise ValueError(f"bad state key prefix {prefix!r}")
    return prefix
