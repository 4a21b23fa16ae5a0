"""Files this user's own runs wrote and nobody else did: sealed with an HMAC under a private key.

Both of provisioner's caches keep what a later run trusts without checking it again: compiled
schema code it executes (`spec.compiled`), and the diagnostics and specs of unchanged spec files
(`spec.cache`). A CRC or a plain hash would tell a damaged file, not one written by someone else
(a cache folder shared, restored by a CI cache, planted in a repository). So a cache file is the
HMAC-SHA256 of its payload under this user's key, then the payload; the key is 32 random bytes
made on first use and kept apart from the caches, `$XDG_STATE_HOME/provisioner/cache.key`
(else `~/.local/state/provisioner/cache.key`), mode 0600.

No key (it cannot be read or made) means nothing is trusted and nothing is written: a run then
only loses the time a cache would have saved.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path

MAC_BYTES = 32


def key_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "provisioner" / "cache.key"


def key(*, create: bool) -> bytes | None:
    """This user's cache key (made on first use when `create`); None when it cannot be had."""
    path = key_file()
    try:
        found = path.read_bytes()
        return found if len(found) == 32 else None
    except FileNotFoundError:
        if not create:
            return None
    except OSError:
        return None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run made it just now
        return key(create=False)
    except OSError:
        return None
    made = os.urandom(32)  # what `secrets.token_bytes` returns, without importing `random`
    with os.fdopen(fd, "wb") as out:
        out.write(made)
    return made


def unseal(secret: bytes, blob: bytes) -> memoryview | None:
    """The payload of `blob` (a view, not a copy: a cache is megabytes) when this key sealed it;
    None for anything else (another key, a damaged or truncated file)."""
    if len(blob) < MAC_BYTES:
        return None
    payload = memoryview(blob)[MAC_BYTES:]
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    return payload if hmac.compare_digest(mac, blob[:MAC_BYTES]) else None


def write(path: Path, secret: bytes, parts: Iterable[bytes]) -> bool:
    """Seal and write the payload made of `parts` to `path`, part by part (never the whole
    payload in memory at once); False when the folder cannot be written (a cache that cannot
    be kept only costs time)."""
    import tempfile  # only a run that writes a cache needs it

    mac = hmac.new(secret, digestmod=hashlib.sha256)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a concurrent run (two hooks at once) reads a whole file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(bytes(MAC_BYTES))  # the seal goes here once the payload is written
                for part in parts:
                    mac.update(part)
                    out.write(part)
                out.seek(0)
                out.write(mac.digest())
            Path(temporary).replace(path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True
