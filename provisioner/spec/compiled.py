"""The spec schemas compiled to Python code by fastjsonschema, and that code kept between runs.

Compiled, a schema checks a document ~20x faster than jsonschema, and without importing
jsonschema at all (~70 ms with its registry of every draft's meta-schema): what lets
`provisioner validate` start as fast as a pre-commit hook should. Generating and compiling the
code costs ~100 ms for the three schemas, so the compiled code object is kept in the user's
cache folder (`$XDG_CACHE_HOME/provisioner/validators`, else `~/.cache/provisioner/validators`),
keyed by the schema, the fastjsonschema version and the Python bytecode tag; loading it back
takes under a millisecond.

This module only ever answers "valid": jsonschema (`schema.check`) still finds and words every
problem. An entry is code this process will run, so it is trusted only when sealed under this
user's private key (`spec.signed`, kept apart from the cache): a cache folder shared, restored
by a CI cache or written by someone else holds nothing this run will execute. An entry that is
missing, unreadable, foreign (another key), corrupted or of another schema is compiled again; a
folder that cannot be written, or a key that cannot be kept, only costs the compile.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

from provisioner.spec import signed


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "provisioner" / "validators"


def _identity(schema: dict[str, Any], version: str) -> str:
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return f"{sys.implementation.cache_tag}\0fastjsonschema {version}\0{text}"


def _name(identity: str) -> str:
    return hashlib.sha256(identity.encode()).hexdigest()[:16]


def _read(path: Path, identity: str, key: bytes | None) -> tuple[str, CodeType] | None:
    if key is None:
        return None
    try:
        payload = signed.unseal(key, path.read_bytes())
    except OSError:
        return None
    if payload is None:
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
    if key is not None:
        signed.write(path, key, [marshal.dumps((identity, name, code))])


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
    key = signed.key(create=True)
    found = _read(path, identity, key)
    if found is None:
        found = _compile(schema)
        _write(path, identity, *found, key)
    name, code = found
    namespace: dict[str, Any] = {"__name__": "provisioner.spec.compiled.generated"}
    exec(code, namespace)  # code fastjsonschema generated from our own schema
    check: Callable[[Any], Any] = namespace[name]
    return check
