"""The spec cache: what checking each spec file found, kept between runs, so that a run checks
again only the files that changed.

A fleet's specs rarely change, but loading one (parse, positions, defaults, schema, checks,
frozen values) is most of a plan's own work. `spec.stack` checks a file as a pure function of
its bytes, its path as shown, the `_defaults.yaml` files above it and the stack's settings
(`stack.check_file`); this module keeps each result under a digest of all of those, of how the
stack is read (policies or not) and of the tool itself (its version and the source of this
package, schemas included). A result is only ever used for the very inputs it was made from, so
a run with the cache says and plans byte for byte what a run without it does
(`tests/spec/test_spec_cache.py` proves it over the golden cases and the hostile inputs).

One file per stack, `<base>/.provisioner/cache/specs-<root digest>.bin`, where `<base>` is the
root of the git repository holding the spec directory (the local state folder's place), or the
spec directory itself outside a repository; the folder holds a `.gitignore` of `*`. The file is
sealed under the user's private key (`spec.signed`): one that is damaged or was written with
another key (another user's, another machine's, a CI cache restored without its key) is ignored
with a warning, never trusted to hide an error, and written again. One written by another
version of the tool is silently replaced. `PROVISIONER_SPEC_CACHE=off` turns it off;
`PROVISIONER_SPEC_CACHE=FOLDER` keeps it in that folder instead (a CI cache's, say).

Values are pickled: a sealed file holds only what this user's own runs wrote. A spec's marks
(a position for each of its values, most of its size) are kept packed and unpacked only when a
diagnostic or a plan line asks for one of them.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import marshal
import os
import pickle
import struct
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provisioner import __version__
from provisioner.spec import signed
from provisioner.spec.diagnostics import Diagnostic, Mark, Severity, display_path
from provisioner.spec.discover import STATE_FOLDER, git_root
from provisioner.spec.loader import KeyPath, Located
from provisioner.spec.model import Source

VARIABLE = "PROVISIONER_SPEC_CACHE"
_OFF = frozenset({"off", "0", "false", "no"})
_ON = frozenset({"", "on", "1", "true", "yes"})
_IDENTITY_BYTES = 32
# A cache that grew past this (entries of files long gone, kept by `validate FILE...` runs) is
# started again rather than carried on.
MAX_ENTRIES = 200_000


def enabled(environ: Mapping[str, str]) -> bool:
    return environ.get(VARIABLE, "").strip().lower() not in _OFF


def location(root: Path, environ: Mapping[str, str]) -> Path:
    """The cache file of the stack at `root`: in the folder `PROVISIONER_SPEC_CACHE` names
    (relative to the working directory), else in `.provisioner/cache/` beside the local
    state."""
    absolute = root.absolute()
    digest = hashlib.sha256(os.fsencode(absolute)).hexdigest()[:16]
    chosen = environ.get(VARIABLE, "").strip()
    if chosen.lower() not in _ON:
        return Path(chosen).absolute() / f"specs-{digest}.bin"
    base = git_root(absolute) or absolute
    return base / STATE_FOLDER / "cache" / f"specs-{digest}.bin"


def _tool_identity() -> bytes:
    """The tool that made a result: its version, the Python that ran it, PyYAML (with or
    without libyaml: the positions of a few errors differ) and this package's own source and
    schemas, so that a changed check in a development checkout is never answered from an old
    result."""
    import yaml

    digest = hashlib.sha256()
    for part in (__version__, sys.implementation.cache_tag, yaml.__version__):
        digest.update(f"{part}\0".encode())
    digest.update(b"libyaml" if getattr(yaml, "__with_libyaml__", False) else b"pure")
    folder = Path(__file__).parent
    for path in sorted(folder.iterdir()):
        if path.suffix in (".py", ".json"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


_NAME: KeyPath = ("name",)


class PackedMarks(Mapping[KeyPath, Located]):
    """A spec's marks as one marshalled block, unpacked on first use: a warm run of a large
    stack reads back 100,000 of them and uses the few its diagnostics and changes point at."""

    __slots__ = ("_blob", "_files", "_name", "_rows")

    def __init__(
        self,
        files: tuple[Path, ...],
        blob: bytes,
        name: tuple[int, int, int, int, int] | None = None,
    ) -> None:
        # The files as the very `Path` objects the marks held: pickled once for the whole cache
        # (a `_defaults.yaml` is in the marks of every spec below it), not once per spec.
        self._files = files
        self._blob = blob
        # The `name` key's mark, kept apart: every plan line and diagnostic about an endpoint
        # points at it, so a warm plan of unchanged specs never unpacks the rest.
        self._name = name
        self._rows: dict[KeyPath, tuple[int, int, int, int, int]] | None = None

    @staticmethod
    def pack(marks: Mapping[KeyPath, Any]) -> Mapping[KeyPath, Any]:
        if isinstance(marks, PackedMarks):
            return marks
        if not all(isinstance(m, Located) for m in marks.values()):
            return marks  # not a loaded document's (tests build sources by hand): kept whole
        files: dict[Path, int] = {}
        rows = {
            path: (files.setdefault(m.file, len(files)), m.line, m.col, m.key_line, m.key_col)
            for path, m in marks.items()
        }
        return PackedMarks(tuple(files), marshal.dumps(rows), rows.get(_NAME))

    def _table(self) -> dict[KeyPath, tuple[int, int, int, int, int]]:
        if self._rows is None:
            self._rows = marshal.loads(self._blob)
        return self._rows

    def __getitem__(self, path: KeyPath) -> Located:
        row = self._name if path == _NAME and self._name is not None else self._table()[path]
        file, line, col, key_line, key_col = row
        return Located(self._files[file], line, col, key_line, key_col)

    def get(self, path: KeyPath, default: Any = None) -> Any:
        if path == _NAME and self._name is not None:
            return self[path]
        return self[path] if path in self._table() else default

    def __iter__(self) -> Iterator[KeyPath]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __reduce__(self) -> tuple[Any, ...]:
        return (PackedMarks, (self._files, self._blob, self._name))


def _reduce_source(source: Source) -> tuple[Any, ...]:
    return (Source, (source.file, source.document, PackedMarks.pack(source.marks)))


def _dumps(value: object) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, Source: _reduce_source}
    pickler.dump(value)
    return out.getvalue()


# Results per pickle of the file: one pickle of 5,000 held a memo of every object it wrote (30
# MiB more at the peak of a cold plan); chunks of this size read back as fast as one.
_CHUNK = 256
_LENGTH = struct.Struct("<Q")


def _parts(identity: bytes, entries: dict[bytes, object]) -> Iterator[bytes]:
    """The payload: the tool's identity, then each chunk's length and pickle."""
    yield identity
    items = list(entries.items())
    for start in range(0, len(items), _CHUNK):
        chunk = _dumps(items[start : start + _CHUNK])
        yield _LENGTH.pack(len(chunk))
        yield chunk


def _entries(payload: memoryview) -> dict[bytes, object]:
    entries: dict[bytes, object] = {}
    at = _IDENTITY_BYTES
    while at < len(payload):
        (length,) = _LENGTH.unpack_from(payload, at)
        at += _LENGTH.size
        entries.update(pickle.loads(payload[at : at + length]))
        at += length
    return entries


@dataclass
class SpecCache:
    """One stack's cache file, for one run: `get` and `put` results by key, then `close`.

    The file holds every result in pickles of `_CHUNK` results (`_parts`), not one pickle per
    result: read back, a warm run of 5,000 specs builds its specs in a fifth of the time 5,000
    small pickles take (classes and shared values resolved once per chunk). A run that changed
    anything writes the file whole."""

    path: Path
    _key: bytes
    _identity: bytes = b""
    _old: dict[bytes, object] = field(default_factory=dict)
    _new: dict[bytes, object] = field(default_factory=dict)
    _changed: bool = False
    _warning: Diagnostic | None = None

    @staticmethod
    def for_stack(root: Path, environ: Mapping[str, str]) -> SpecCache | None:
        """The cache of the stack at `root`; None when it is turned off or no key can be had."""
        if not enabled(environ):
            return None
        key = signed.key(create=True)
        if key is None:
            return None
        cache = SpecCache(location(root, environ), key)
        cache._read()
        return cache

    def _read(self) -> None:
        self._identity = _tool_identity()
        try:
            blob = self.path.read_bytes()
        except OSError:
            return  # none yet, or unreadable: written anew
        payload = signed.unseal(self._key, blob)
        if payload is None:
            self._warning = Diagnostic(
                Mark(display_path(self.path)),
                "spec cache ignored: it is damaged or was written with another key (another "
                f"user or machine, or restored without its key {signed.key_file()}); every spec "
                "is checked again and the cache written anew",
                Severity.WARNING,
            )
            self._changed = True
            return
        if payload[:_IDENTITY_BYTES] != self._identity:
            self._changed = True  # another version of the tool: replaced, silently
            return
        try:
            entries = _entries(payload)
        except Exception:  # sealed by this user, yet unreadable: written anew
            entries = {}
            self._changed = True
        if len(entries) <= MAX_ENTRIES:
            self._old = entries
        else:
            self._changed = True

    def get(self, key: bytes) -> object | None:
        """The result kept under `key`, or None. A hit is carried to the next file written."""
        found = self._old.get(key)
        if found is not None:
            self._new[key] = found
        return found

    def put(self, key: bytes, value: object) -> None:
        self._new[key] = value
        self._changed = True

    def close(self, *, complete: bool) -> list[Diagnostic]:
        """Write what this run used (and, after a run over part of the stack, what it did not
        touch); the warning about an ignored cache, if any."""
        if not complete:
            for key, value in self._old.items():
                self._new.setdefault(key, value)
        elif self._new.keys() != self._old.keys():
            self._changed = True  # files removed: their entries go
        if self._changed:
            _ignore_folder(self.path.parent)
            signed.write(self.path, self._key, _parts(self._identity, self._new))
        return [self._warning] if self._warning else []


def _ignore_folder(folder: Path) -> None:
    """A `.gitignore` of `*` in the cache folder, so that nothing of it is ever committed, even
    in a repository that does not ignore `.provisioner/`."""
    ignore = folder / ".gitignore"
    if ignore.exists():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore.write_text("# provisioner's spec cache: never committed\n*\n")
    except OSError:
        return
