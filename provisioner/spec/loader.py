"""Load YAML files into plain Python values while remembering where every key and value sits.

PyYAML's safe loader loses positions, silently keeps the last of two duplicate keys and expands
aliases without bound. This module composes the node graph itself and converts it, so that:

- every key and value has a `Mark` (file, 1-based line and column);
- a duplicate key in a mapping is an error, not a silent overwrite;
- alias expansion is bounded (a "billion laughs" file is an error, not an out-of-memory);
- non-UTF-8 bytes, syntax errors, unsupported tags and empty files become diagnostics.

It does no schema or semantic checking: that is `validate`'s job.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from provisioner.spec.diagnostics import Diagnostic, Mark

# A path from a document's root to a value: mapping keys and sequence indexes.
KeyPath = tuple[str | int, ...]

MAX_FILE_BYTES = 16 * 1024 * 1024
# Values produced per document, aliases counted each time they are expanded. Real specs have a
# few hundred; the bound only stops alias bombs.
MAX_VALUES_PER_DOCUMENT = 20_000
MAX_DEPTH = 64

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_INTERN_MAX = 64
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")
)


class Located(NamedTuple):
    """Where a value sits, and for a mapping entry, where its key sits (`key_line` 0: not an
    entry). A bare tuple, one per value of every spec: a 5,000-spec stack holds 200,000 of
    them, and `Mark`s are made only for the few a diagnostic or a plan line shows."""

    file: Path
    line: int
    col: int
    key_line: int = 0
    key_col: int = 0

    @property
    def value(self) -> Mark:
        return Mark(self.file, self.line, self.col)

    @property
    def key(self) -> Mark | None:
        return Mark(self.file, self.key_line, self.key_col) if self.key_line else None


@dataclass(frozen=True)
class Document:
    """One YAML document of a file, converted to plain values with a mark for every path."""

    file: Path
    index: int
    data: Any
    marks: Mapping[KeyPath, Located]

    def mark(self, path: KeyPath, *, key: bool = False) -> Mark:
        """The mark of `path`, or of its nearest ancestor that has one.

        With `key=True`, the mark of the key of a mapping entry (where "unknown key" points).
        """
        for end in range(len(path), -1, -1):
            located = self.marks.get(path[:end])
            if located is not None:
                if key and end == len(path) and located.key is not None:
                    return located.key
                return located.value
        return Mark(self.file)


class _Abort(Exception):
    """Stops converting one document; the diagnostic is already recorded."""


def _mark(file: Path, node: Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Converter:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.marks: dict[KeyPath, Located] = {}
        self.errors: list[Diagnostic] = []
        self.count = 0
        self._scalars = SafeConstructor()

    def fail(self, node: Node, message: str) -> None:
        self.errors.append(Diagnostic(_mark(self.file, node), message))

    def convert(
        self, node: Node, path: KeyPath, depth: int, key_line: int = 0, key_col: int = 0
    ) -> Any:
        """The value of `node` at `path`; `key_line` and `key_col` are where its key sits when it
        is a mapping entry's value (0: not an entry)."""
        self.count += 1
        if self.count > MAX_VALUES_PER_DOCUMENT:
            self.fail(
                node,
                f"document expands to more than {MAX_VALUES_PER_DOCUMENT} values through YAML "
                "aliases (a 'YAML bomb'); expand the aliases by hand",
            )
            raise _Abort
        if depth > MAX_DEPTH:
            self.fail(node, f"nesting deeper than {MAX_DEPTH} levels")
            raise _Abort
        if path not in self.marks:
            start = node.start_mark
            self.marks[path] = Located(
                self.file, start.line + 1, start.column + 1, key_line, key_col
            )
        # Scalars first: they are four values out of five.
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        assert isinstance(node, SequenceNode)
        self._check_tag(node)
        return [self.convert(item, _child(path, i), depth + 1) for i, item in enumerate(node.value)]

    def _check_tag(self, node: Node) -> None:
        if node.tag not in _PLAIN_TAGS:
            self.fail(node, f"unsupported YAML tag {node.tag!r}")

    def _scalar(self, node: ScalarNode) -> Any:
        tag, value = node.tag, node.value
        if tag == _STR_TAG:
            # What SafeConstructor makes of it, without its bookkeeping; interned when short
            # (vendors, regions, types, repositories repeat across thousands of specs).
            return sys.intern(value) if len(value) <= _INTERN_MAX else value
        if tag == _INT_TAG and _plain_decimal(value):
            # Replicas, timeouts, ports: what SafeConstructor's int() of them gives, without its
            # dispatch (it was a third of converting a spec). Every other form of an integer
            # (0x1F, 0o17, 017, 1_000, +1, 1:30) is still SafeConstructor's.
            return int(value)
        if tag == _TIMESTAMP_TAG:
            # Dates are not a spec type; keep the text so the schema can say what it expected.
            return value
        self._check_tag(node)
        if tag not in _PLAIN_TAGS:
            return value
        try:
            return self._scalars.construct_object(node, deep=True)
        except ConstructorError as exc:  # pragma: no cover - plain tags always construct
            self.fail(node, str(exc.problem))
            return value

    def _entries(self, node: MappingNode, depth: int) -> list[tuple[Node, Node]]:
        """Explicit entries first, then those pulled in by `<<` merge keys (explicit ones win)."""
        explicit: list[tuple[Node, Node]] = []
        merged: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, MappingNode):
                        self.fail(source, "a '<<' merge key needs a mapping or a list of mappings")
                        continue
                    self.count += len(source.value)
                    merged.extend(self._entries(source, depth + 1))
            else:
                explicit.append((key_node, value_node))
        return explicit + merged

    def _mapping(self, node: MappingNode, path: KeyPath, depth: int) -> dict[str, Any]:
        self._check_tag(node)
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        pairs: list[tuple[Node, Node]] = node.value
        entries = pairs
        explicit = None
        for key_node, _ in pairs:
            if key_node.tag == _MERGE_TAG:
                entries = self._entries(node, depth)
                # Keys pulled in by `<<` may repeat explicit ones (those win, silently); only
                # explicit keys can be duplicates.
                explicit = {id(k) for k, _ in pairs}
                break
        for key_node, value_node in entries:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, "mapping keys must be plain strings")
                continue
            key = self._scalar(key_node)
            if not isinstance(key, str):
                self.fail(key_node, f"key {key_node.value!r} must be a string; quote it")
                continue
            start = key_node.start_mark
            if key in seen:
                if explicit is None or id(key_node) in explicit:
                    self.fail(
                        key_node,
                        f"duplicate key {key!r} (first defined at line {seen[key]}); "
                        "YAML keeps only one of them",
                    )
                continue
            seen[key] = start.line + 1
            # Interned: every spec repeats the same few dozen keys, and each is kept in the
            # paths of its marks for as long as the run lasts.
            key = sys.intern(key)
            result[key] = self.convert(
                value_node, _child(path, key), depth + 1, start.line + 1, start.column + 1
            )
        return result


@functools.lru_cache(maxsize=4096)
def _child(path: KeyPath, part: str | int) -> KeyPath:
    """`path` and then `part`, as one tuple shared by every document that has this path: the
    specs of a stack have the same few dozen paths, and each spec keeps the paths of its marks
    for as long as the run lasts (2 KiB a spec when each document made its own)."""
    return (*path, part)


def _plain_decimal(text: str) -> bool:
    """Digits only, without a leading zero (`017` is octal to YAML 1.1) or a sign."""
    return text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1)


def _decode(raw: bytes, file: Path) -> tuple[str | None, list[Diagnostic]]:
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [
            Diagnostic(
                Mark(file, line, col),
                f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
            )
        ]


def _too_deep(text: str, file: Path) -> Diagnostic:
    """Where `text` first nests deeper than `MAX_DEPTH`, found from the event stream (PyYAML's
    parser keeps its own stack; only its composer recurses)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
                return Diagnostic(
                    Mark(file, line, col),
                    f"nesting deeper than {MAX_DEPTH} levels",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return Diagnostic(Mark(file), f"nesting deeper than {MAX_DEPTH} levels")  # pragma: no cover


# libyaml's composer (5x faster than the pure-Python one) builds the same nodes with the same
# marks, and stops at 1,000 levels of nesting instead of recursing out of stack. Its error texts
# differ, so a file it rejects is composed again by the pure-Python loader, whose messages the
# diagnostics quote.
_FAST_LOADER: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def _compose(text: str, file: Path) -> list[Node | None]:
    if _FAST_LOADER is not None:
        try:
            return list(yaml.compose_all(text, Loader=_FAST_LOADER))
        except yaml.YAMLError:
            pass  # report it with the pure-Python loader's words and marks
    try:
        return list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except RecursionError:
        # Thousands of nested `[` or `-`: the composer recursed out of stack.
        raise _TooDeep(_too_deep(text, file)) from None


class _TooDeep(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def load_text(text: str, file: Path) -> tuple[list[Document], list[Diagnostic]]:
    """Parse every document of `text`; `file` is only used for marks."""
    documents: list[Document] = []
    errors: list[Diagnostic] = []
    try:
        nodes = _compose(text, file)
    except _TooDeep as exc:
        return [], [exc.diagnostic]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        return [], [Diagnostic(Mark(file, line, col), f"YAML syntax error: {problem}")]
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        return [], [Diagnostic(Mark(file, line, col), f"YAML syntax error: {exc.reason}")]
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error is one of the above
        return [], [Diagnostic(Mark(file), f"YAML error: {exc}")]
    for index, node in enumerate(nodes):
        if node is None:
            continue
        converter = _Converter(file)
        try:
            data = converter.convert(node, (), 0)
        except _Abort:
            errors.extend(converter.errors)
            continue
        errors.extend(converter.errors)
        if data is None:
            continue
        documents.append(Document(file, index, data, converter.marks))
    return documents, errors


def read_file(path: Path, shown: Path) -> tuple[bytes | None, list[Diagnostic]]:
    """The bytes of a YAML file, or why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Diagnostic(Mark(shown), f"file is larger than {MAX_FILE_BYTES} bytes")]
        return path.read_bytes(), []
    except OSError as exc:
        return None, [Diagnostic(Mark(shown), f"cannot read file: {exc.strerror}")]


def load_bytes(raw: bytes, shown: Path) -> tuple[list[Document], list[Diagnostic]]:
    """Parse every document of a file's bytes; `shown` is only used for marks."""
    text, errors = _decode(raw, shown)
    if text is None:
        return [], errors
    return load_text(text, shown)


def load_file(path: Path, display: Path | None = None) -> tuple[list[Document], list[Diagnostic]]:
    """Read and parse one YAML file. `display` is the path shown in diagnostics."""
    shown = display or path
    raw, errors = read_file(path, shown)
    return ([], errors) if raw is None else load_bytes(raw, shown)
