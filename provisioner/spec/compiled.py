"""The spec schemas compiled to Python code by fastjsonschema, and that code kept between runs.

Compiled, a schema checks a document ~20x faster than jsonschema, and without importing
jsonschema at all (~70 ms with its registry of every draft's meta-schema): what lets
`provisioner validate` start as fast as a pre-commit hook should. Generating and compiling the
code costs ~100 ms for the three schemas, so the compiled code object is kept in the user's
cache folder (`$XDG_CACHE_HOME/provisioner/validators`, else `~/.cache/provisioner/validators`),
keyed by the schema, the fastjsonschema version and the Python bytecode tag; loading it back
takes under a millisecond.

This module only ever answers "valid": jsonschema (`schema.check`) still finds and words every
problem. A cache entry that is missing, unreadable, foreign or corrupted is compiled again
(never trusted: its checksum and its whole key must match); a cache folder that cannot be
written is not an error either.
"""

from __future__ import annotations

import json
import marshal
import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

# An entry: the CRC-32 of the rest (4 bytes, big-endian), then the marshalled tuple
# (identity, scope name, code object). The identity (schema, versions) is compared whole, so a
# file name (its CRC) shared by two schemas only costs a compile, never the wrong check.
_CRC = 4


def cache_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "provisioner" / "validators"


def _identity(schema: dict[str, Any], version: str) -> str:
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"))
    return f"{sys.implementation.cache_tag}\0fastjsonschema {version}\0{text}"


def _read(path: Path, identity: str) -> tuple[str, CodeType] | None:
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    payload = blob[_CRC:]
    if len(blob) < _CRC or zlib.crc32(payload) != int.from_bytes(blob[:_CRC], "big"):
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


def _write(path: Path, identity: str, name: str, code: CodeType) -> None:
    import tempfile  # only a run that compiles writes

    payload = marshal.dumps((identity, name, code))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a concurrent run (two hooks at once) reads a whole entry.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out:
            out.write(zlib.crc32(payload).to_bytes(_CRC, "big") + payload)
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
    path = cache_folder() / f"{zlib.crc32(identity.encode()):08x}.bin"
    found = _read(path, identity)
    if found is None:
        found = _compile(schema)
        _write(path, identity, *found)
    name, code = found
    namespace: dict[str, Any] = {"__name__": "provisioner.spec.compiled.generated"}
    exec(code, namespace)  # code fastjsonschema generated from our own schema
    check: Callable[[Any], Any] = namespace[name]
    return check
