"""The spec schemas compiled to Python code by fastjsonschema, and that code kept between runs.

Compiled, a schema checks a document ~20x faster than jsonschema, and without importing
jsonschema at all (~70 ms with its registry of every draft's meta-schema): what lets
`provisioner validate` start as fast as a pre-commit hook should. Generating and compiling the
code costs ~100 ms for the three schemas, so the compiled code object is kept in the user's
cache folder (`$XDG_CACHE_HOME/provisioner/validators`, else `~/.cache/provisioner/validators`),
keyed by the schema, the fastjsonschema version and the Python bytecode tag; loading it back
takes under a millisecond.

This module only ever answers "valid": jsonschema (`schema.check`) still finds and words every
problem. An entry is code this process will run, so it is trusted only with a valid HMAC under
a private key of this user's, kept apart from the cache (`$XDG_STATE_HOME/provisioner/
cache.key`, mode 0600): a cache folder shared, restored by a CI cache or written by someone
else holds nothing this run will execute. An entry that is missing, unreadable, foreign
(another key), corrupted or of another schema is compiled again; a folder that cannot be
written, or a key that cannot be kept, only costs the compile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import marshal
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

# An entry: the HMAC-SHA256 of the rest under the user's key (32 bytes), then the marshalled
# tuple (identity, scope name, code object). The identity (schema, versions) is compared whole.
_MAC = 32


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "provisioner" / "validators"


def key_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "provisioner" / "cache.key"


def _key(*, create: bool) -> bytes | None:
    """This user's cache key (made on first use when `create`); None when it cannot be had."""
    path = key_file()
    try:
        key = path.read_bytes()
        return key if len(key) == 32 else None
    except FileNotFoundError:
        if not create:
            return None
    except OSError:
        return None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another run made it just now
        return _key(create=False)
    except OSError:
        return None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


def _identity(schema: dict[str, Any], version: str) -> str:
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return f"{sys.implementation.cache_tag}\0fastjsonschema {version}\0{text}"


def _name(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def _read(path: Path, identity: str, key: bytes | None) -> tuple[str, CodeType] | None:
    if key is None:
        return None
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    payload = blob[_MAC:]
    mac = hmac.new(key, payload, hashlib.sha256).digest()
    if len(blob) < _MAC or not hmac.compare_digest(mac, blob[:_MAC]):
        return None
    try:
        entry = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if not (isinstance(entry, tuple) and len(entry) == 3 and entry[0] == identity):
        return None
    _, name, code = entry
    if not isinstance(name, str) or not isinstance(code, CodeType):
        return None
    return name, code


def _write(path: Path, identity: str, name: str, code: CodeType, key: bytes | None) -> None:
    import tempfile  # only a run that compiles writes

    if key is None:
        return
    payload = marshal.dumps((identity, name, code))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a concurrent run (two hooks at once) reads a whole entry.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(hmac.new(key, payload, hashlib.sha256).digest() + payload)
        Path(temporary).replace(path)
    except OSError:
        return


def _compile(schema: dict[str, Any]) -> tuple[str, CodeType]:
    from fastjsonschema import compile_to_code
    from fastjsonschema.ref_resolver import RefResolver

    source = compile_to_code(schema, use_default=False, use_formats=False)
    name = RefResolver.from_schema(schema, handlers={}, store={}).get_scope_name()
    return name, compile(source, f"<compiled schema {schema.get('$id', '')}>", "exec")


def validator(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """The compiled check of `schema` (without `$schema`: fastjsonschema's latest draft): raises
    `fastjsonschema.JsonSchemaException` for a document it rejects."""
    from fastjsonschema import VERSION

    identity = _identity(schema, VERSION)
    path = cache_folder() / f"{_name(identity)}.bin"
    key = _key(create=True)
    found = _read(path, identity, key)
    if found is None:
        found = _compile(schema)
        _write(path, identity, *found, key)
    name, code = found
    namespace: dict[str, Any] = {"__name__": "provisioner.spec.compiled.generated"}
    exec(code, namespace)  # code fastjsonschema generated from our own schema
    check: Callable[[Any], Any] = namespace[name]
    return check
