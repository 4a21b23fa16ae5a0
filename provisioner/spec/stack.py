"""A stack: one spec directory with its settings, `_defaults.yaml` files and endpoint specs.

Owns discovery (which files are specs), the settings file, the deep merge of defaults with the
provenance of every merged value, and the rules that need all documents at once (duplicate
names). Everything the user got wrong comes back as diagnostics, all of them in one pass.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from provisioner.spec import checks, schema
from provisioner.spec.backend import LOCAL, BackendConfig
from provisioner.spec.backend import parse as parse_backend
from provisioner.spec.cache import SpecCache
from provisioner.spec.diagnostics import Diagnostic, Diagnostics, Mark, Severity, display_path
from provisioner.spec.discover import yaml_files
from provisioner.spec.loader import Document, KeyPath, Located, load_bytes, load_file, read_file
from provisioner.spec.model import EndpointSpec
from provisioner.spec.policies import NO_POLICIES, Policies, violations
from provisioner.spec.policies import parse as parse_policies

SETTINGS_NAMES = ("_settings.yaml", "_settings.yml")
DEFAULTS_NAMES = ("_defaults.yaml", "_defaults.yml")
_STACK_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# The stack's name is part of its ownership tag (`provisioner-stack-<name>`, 18 + 40 = 58
# characters), which must stay within the conservative tag length (`checks.CONSERVATIVE_TAG_MAX`).
# settings.schema.json says the same (`maxLength`) for a name set in `_settings.yaml`.
STACK_NAME_MAX = 40


def _valid_stack_name(name: str) -> bool:
    return len(name) <= STACK_NAME_MAX and _STACK_NAME.match(name) is not None


@dataclass(frozen=True)
class Settings:
    stack: str
    namespace: str | None = None
    file: Path | None = None
    # True when no `stack:` was set and the name is the directory's: two directories with the
    # same name (say two repositories' `endpoints/`) would then manage each other's endpoints.
    stack_from_directory: bool = False
    # The schema's default applies when the file does not set it (see `delete_limit`).
    max_delete_percent: int | None = None
    backend: BackendConfig = LOCAL
    policies: Policies = NO_POLICIES
    # A scheduled run may revert more than the schedules' changes (`self_heal: true`).
    self_heal: bool = False
    # `suspend:` as set (true, or the reason), and where: unattended applies change nothing.
    suspend: bool | str = False
    suspend_mark: Mark | None = None

    @property
    def delete_limit(self) -> int:
        """The share of its endpoints (percent) a plan may delete without --allow-mass-delete."""
        if self.max_delete_percent is not None:
            return self.max_delete_percent
        default: int = schema.settings_schema()["properties"]["max_delete_percent"]["default"]
        return default


@dataclass(frozen=True)
class Entry:
    """One document of a spec file, as the stack needs it once the file is checked: its spec
    (None when it has errors) and what the duplicate check needs, which takes every document
    with a name, so that a spec with other mistakes takes part too."""

    spec: EndpointSpec | None
    # (namespace, name) as declared (namespace None: the token's); None when not a string.
    address: tuple[str | None, str] | None
    name_mark: Mark | None


@dataclass(frozen=True)
class FileResult:
    """What checking one spec file found: a pure function of the file's bytes and path, its
    `_defaults.yaml` chain and the settings, which is what `spec.cache` keeps and keys it by."""

    diagnostics: tuple[Diagnostic, ...]
    # Problems in a `_defaults.yaml` value this file inherits: reported once, naming its specs.
    inherited: tuple[Diagnostic, ...]
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Stack:
    """The specs that loaded without error. The documents they came from are not kept (a large
    stack's YAML values and marks are half its memory): each spec's `source` keeps its marks."""

    root: Path
    settings: Settings
    specs: tuple[EndpointSpec, ...]

    def default_namespace(self, token_user: str) -> str:
        """A spec without `namespace:` goes here: the settings' namespace, else the user's."""
        return self.settings.namespace or token_user

    def resolved_specs(self, token_user: str) -> list[EndpointSpec]:
        """Every spec with its namespace filled in (the one rule plan, apply and tests share)."""
        default = self.default_namespace(token_user)
        return [s if s.namespace else replace(s, namespace=default) for s in self.specs]


def _single_mapping(path: Path, shown: Path, diagnostics: Diagnostics) -> Document | None:
    documents, errors = load_file(path, shown)
    diagnostics.extend(errors)
    if errors:
        return None
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        diagnostics.error(Mark(shown), "must hold exactly one YAML mapping")
        return None
    return documents[0]


def _settings(root: Path, shown_root: Path, diagnostics: Diagnostics) -> Settings:
    present = [root / n for n in SETTINGS_NAMES if (root / n).is_file()]
    default_name = root.resolve().name
    if len(present) > 1:
        diagnostics.error(Mark(display_path(present[1])), "both _settings.yaml and .yml; keep one")
    if not present:
        if not _valid_stack_name(default_name):
            diagnostics.error(
                Mark(shown_root),
                f"stack name {default_name!r} (the directory's name) is invalid: use lowercase "
                f"letters, digits and '-', at most {STACK_NAME_MAX} characters; or set 'stack:' "
                "in _settings.yaml",
            )
        return Settings(stack=default_name, stack_from_directory=True)
    shown = display_path(present[0])
    document = _single_mapping(present[0], shown, diagnostics)
    if document is None:
        return Settings(stack=default_name, file=shown)
    errors = schema.check(document, schema.settings_schema())
    diagnostics.extend(errors)
    data = document.data if not errors else {}
    stack = data.get("stack", default_name)
    if "stack" not in data and not _valid_stack_name(default_name):
        diagnostics.error(
            Mark(shown),
            f"stack name {default_name!r} (the directory's name) is invalid; set 'stack:' here",
        )
    rules, problems = parse_policies(document, data, root)
    diagnostics.extend(problems)
    return Settings(
        stack=stack,
        namespace=data.get("namespace"),
        file=shown,
        stack_from_directory="stack" not in data,
        max_delete_percent=data.get("max_delete_percent"),
        backend=_backend(document, data, diagnostics),
        policies=rules,
        self_heal=data.get("self_heal", False),
        suspend=data.get("suspend", False),
        suspend_mark=document.mark(("suspend",)) if "suspend" in data else None,
    )


def read_settings(root: Path) -> tuple[Settings, Diagnostics]:
    """The settings of the stack at `root` alone, without its specs (finding the stacks under a
    root needs their names, not their specs)."""
    diagnostics = Diagnostics()
    return _settings(root, display_path(root), diagnostics), diagnostics


def _backend(document: Document, data: dict[str, Any], diagnostics: Diagnostics) -> BackendConfig:
    if "backend" not in data:
        return LOCAL
    try:
        return parse_backend(data["backend"])
    except ValueError as error:
        diagnostics.error(document.mark(("backend",)), f"backend: {error}")
        return LOCAL


# Top-level keys a spec replaces whole rather than merging into its defaults: a schedule is one
# decision (windows merged from two files could overlap or run when neither file says so).
_REPLACED_WHOLE = frozenset({"schedule"})


def _merge(base: Any, over: Any, *, top: bool = False) -> Any:
    """Mappings merge key by key; anything else from `over` replaces `base` whole."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            whole = top and key in _REPLACED_WHOLE
            merged[key] = _merge(base[key], value) if key in base and not whole else value
        return merged
    return over


def merge_documents(layers: Iterable[Document], spec: Document) -> Document:
    """`spec` over its defaults (outermost first); every value keeps the mark of its own file."""
    data: Any = {}
    marks: dict[KeyPath, Located] = {}
    for layer in [*layers, spec]:
        data = _merge(data, layer.data, top=True)
        marks.update(layer.marks)
    return Document(spec.file, spec.index, data, marks)


def _defaults_chain(
    spec_file: Path, root: Path, defaults: dict[Path, Document | None]
) -> list[Document] | None:
    """The `_defaults.yaml` documents from the root down to the spec's folder.

    None when one of them is broken: its own diagnostics say why, and checking the specs below
    it would only repeat the damage as a cascade of "missing key" errors.
    """
    chain: list[Document] = []
    folder = root
    for part in (*spec_file.parent.relative_to(root).parts, None):
        if folder in defaults:
            document = defaults[folder]
            if document is None:
                return None
            chain.append(document)
        if part is not None:
            folder = folder / part
    return chain


def _load_defaults(files: list[Path], diagnostics: Diagnostics) -> dict[Path, Document | None]:
    defaults: dict[Path, Document | None] = {}
    for path in files:
        if path.name not in DEFAULTS_NAMES:
            continue
        shown = display_path(path)
        if path.parent in defaults:
            diagnostics.error(Mark(shown), "both _defaults.yaml and _defaults.yml here; keep one")
            defaults[path.parent] = None
            continue
        document = _single_mapping(path, shown, diagnostics)
        if document is not None:
            errors = schema.check(document, schema.defaults_schema())
            diagnostics.extend(errors)
            if errors:
                document = None
        defaults[path.parent] = document
    return defaults


def _warn_underscore(path: Path, diagnostics: Diagnostics, root: Path) -> None:
    shown = display_path(path)
    if path.name in SETTINGS_NAMES and path.parent != root:
        diagnostics.error(
            Mark(shown), "_settings.yaml is only read at the root of the spec directory"
        )
    elif path.name not in (*SETTINGS_NAMES, *DEFAULTS_NAMES):
        hint = ""
        if path.stem.startswith("_default"):
            hint = "; did you mean _defaults.yaml?"
        elif path.stem.startswith("_setting"):
            hint = "; did you mean _settings.yaml?"
        diagnostics.warning(Mark(shown), f"files starting with '_' are not specs: ignored{hint}")


def _address(document: Document, settings: Settings) -> tuple[str | None, str] | None:
    name = document.data.get("name")
    namespace = document.data.get("namespace", settings.namespace)
    if not isinstance(name, str) or not isinstance(namespace, str | None):
        return None  # the schema reports it
    return namespace, name


def _duplicates(entries: list[Entry], diagnostics: Diagnostics) -> None:
    """Two specs for one endpoint, checked on the raw documents so that a spec with other
    mistakes still takes part (each mistake is reported, in one run)."""
    seen: dict[tuple[str | None, str], Mark] = {}
    for entry in entries:
        if entry.address is None or entry.name_mark is None:
            continue
        namespace, name = entry.address
        if entry.address in seen:
            where = f"namespace {namespace!r}" if namespace else "the token's namespace"
            diagnostics.error(
                entry.name_mark,
                f"endpoint {name!r} in {where} is already declared at {seen[entry.address]}",
            )
        else:
            seen[entry.address] = entry.name_mark


def _not_a_directory(root: Path) -> str:
    if root.is_symlink():
        return (
            "spec directory is a symbolic link that leads to no directory (a loop, or a link "
            "to nothing); fix the link or pass the directory itself"
        )
    return "spec directory not found" if not root.exists() else "not a directory"


def load_stack(
    root: Path,
    *,
    check_policies: bool = True,
    only: Iterable[Path] | None = None,
    cache: SpecCache | None = None,
) -> tuple[Stack, Diagnostics]:
    """Load, merge, check and build every spec under `root`.

    `check_policies=False` leaves out the stack's policies (`status`, `destroy`, `release`: they
    deploy nothing, and an endpoint that breaks a policy must still be seen, released or
    deleted). `only` narrows the specs to those files (see `select`). With a `cache`
    (`spec.cache`), a file whose result it holds for the same inputs is not checked again."""
    diagnostics = Diagnostics()
    shown_root = display_path(root)
    if not root.is_dir():
        shown_link = root if root.is_symlink() else shown_root  # the link, not its target
        diagnostics.error(Mark(shown_link), _not_a_directory(root))
        return Stack(root, Settings(stack=root.name), ()), diagnostics
    settings = _settings(root, shown_root, diagnostics)
    files = yaml_files(root, diagnostics)
    if only is not None:
        files = select(files, root, only)
    defaults = _load_defaults(files, diagnostics)
    entries: list[Entry] = []
    inherited: dict[Diagnostic, list[Path]] = {}
    # Per folder, not per file: a large stack has thousands of specs in a few folders.
    chains: dict[Path, list[Document] | None] = {}
    folders: dict[Path, PurePosixPath] = {}
    keys = _Keys(root, check_policies) if cache is not None else None
    for path in files:
        if path.name.startswith("_"):
            _warn_underscore(path, diagnostics, root)
            continue
        if path.parent not in chains:
            chains[path.parent] = _defaults_chain(path, root, defaults)
            folders[path.parent] = PurePosixPath(path.parent.relative_to(root).as_posix())
        shown = display_path(path)
        context = _FileContext(settings, chains[path.parent], folders[path.parent], check_policies)
        if cache is not None and keys is not None:
            result = _cached(path, shown, context, cache, keys)
        else:
            result = check_file(path, shown, context)
        diagnostics.extend(result.diagnostics)
        for diagnostic in result.inherited:
            inherited.setdefault(diagnostic, []).append(shown)
        entries.extend(result.entries)
    if cache is not None:
        diagnostics.extend(cache.close(complete=only is None))
    diagnostics.extend(_inherited_by(inherited))
    _duplicates(entries, diagnostics)
    specs = tuple(e.spec for e in entries if e.spec is not None)
    return Stack(root, settings, specs), diagnostics


@dataclass(frozen=True)
class _FileContext:
    """What a spec file's check depends on besides the file: the stack's settings, the
    `_defaults.yaml` documents above it (None: one is broken) and its folder under the root."""

    settings: Settings
    chain: list[Document] | None
    folder: PurePosixPath
    check_policies: bool


def check_file(path: Path, shown: Path, context: _FileContext) -> FileResult:
    """Load, merge, check and build every document of one spec file."""
    raw, errors = read_file(path, shown)
    if raw is None:
        return FileResult(tuple(errors), (), ())
    return _check_bytes(raw, shown, context)


class _Keys:
    """The cache keys of a stack's files: a digest of everything a file's result depends on
    besides its own bytes and path (the settings files, the `_defaults.yaml` files from the root
    down to its folder, where the stack is and is shown from, policies or not), per folder."""

    def __init__(self, root: Path, check_policies: bool) -> None:
        self.root = root
        start = hashlib.sha256()
        for part in (str(root.absolute()), str(Path.cwd()), str(check_policies)):
            start.update(os.fsencode(part) + b"\0")
        _digest_files(start, root, SETTINGS_NAMES)
        self._root = start
        self._folders: dict[Path, bytes] = {}

    def folder(self, folder: Path) -> bytes:
        found = self._folders.get(folder)
        if found is None:
            digest = self._root.copy()
            current = self.root
            for part in (*folder.relative_to(self.root).parts, None):
                _digest_files(digest, current, DEFAULTS_NAMES)
                if part is not None:
                    current = current / part
            found = self._folders[folder] = digest.digest()
        return found

    def file(self, path: Path, shown: Path, raw: bytes) -> bytes:
        digest = hashlib.sha256(self.folder(path.parent))
        digest.update(os.fsencode(str(shown)) + b"\0")
        digest.update(raw)
        return digest.digest()


def _digest_files(digest: Any, folder: Path, names: tuple[str, ...]) -> None:
    for name in names:
        path = folder / name
        try:
            raw = path.read_bytes()
        except OSError as error:
            digest.update(f"{name}: {type(error).__name__}\0".encode())
            continue
        digest.update(os.fsencode(str(display_path(path))) + b"\0" + raw + b"\0")


def _cached(
    path: Path, shown: Path, context: _FileContext, cache: SpecCache, keys: _Keys
) -> FileResult:
    raw, errors = read_file(path, shown)
    if raw is None:
        return FileResult(tuple(errors), (), ())  # not kept: it says nothing of the file
    key = keys.file(path, shown, raw)
    found = cache.get(key)
    if isinstance(found, FileResult):
        return found
    result = _check_bytes(raw, shown, context)
    cache.put(key, result)
    return result


def _check_bytes(raw: bytes, shown: Path, context: _FileContext) -> FileResult:
    found = Diagnostics()
    inherited: dict[Diagnostic, list[Path]] = {}
    entries: list[Entry] = []
    loaded, errors = load_bytes(raw, shown)
    found.extend(errors)
    if not loaded and not errors:
        found.error(Mark(shown), "file is empty: it declares no endpoint")
    for document in loaded:
        if not isinstance(document.data, dict):
            found.error(
                document.mark(()),
                f"a spec must be a mapping (name, model, compute, ...), not "
                f"{schema.type_name(document.data)}",
            )
            continue
        if context.chain is None:
            continue
        merged = merge_documents(context.chain, document)
        spec = _check(merged, context.settings, found, inherited)
        if spec is not None and context.check_policies:
            problems = violations(spec, context.settings.policies, folder=context.folder)
            _report(problems, merged, found, inherited)
        address = _address(merged, context.settings)
        name_mark = merged.mark(("name",)) if address is not None else None
        entries.append(Entry(spec, address, name_mark))
    return FileResult(tuple(found), tuple(inherited), tuple(entries))


def _inherited_by(inherited: dict[Diagnostic, list[Path]]) -> list[Diagnostic]:
    """A problem in a `_defaults.yaml` value, once, naming the specs that inherit it (not one
    identical line per spec)."""
    named = []
    for diagnostic, specs in inherited.items():
        files = sorted({str(f) for f in specs})
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        which = "spec" if len(files) == 1 else f"{len(files)} specs"
        message = f"{diagnostic.message} (inherited by {which}: {shown})"
        named.append(Diagnostic(diagnostic.subject, message, diagnostic.severity))
    return named


def _report(
    found: list[Diagnostic],
    document: Document,
    diagnostics: Diagnostics,
    inherited: dict[Diagnostic, list[Path]],
) -> None:
    for diagnostic in found:
        subject = diagnostic.subject
        if isinstance(subject, Mark) and subject.file != document.file:
            inherited.setdefault(diagnostic, []).append(document.file)  # from a _defaults.yaml
        else:
            diagnostics.add(diagnostic)


def _check(
    document: Document,
    settings: Settings,
    diagnostics: Diagnostics,
    inherited: dict[Diagnostic, list[Path]],
) -> EndpointSpec | None:
    # `check` asks the compiled schema first (`spec.compiled`), jsonschema only for a document
    # it does not call valid: the same diagnostics, word for word, at any size of stack.
    found = [*schema.check(document, schema.endpoint_schema()), *checks.rules(document)]
    _report(found, document, diagnostics, inherited)
    if any(d.severity is Severity.ERROR for d in found):
        return None
    return checks.build(document, default_namespace=settings.namespace)


def _absolute(path: Path) -> Path:
    return Path(os.path.normpath(path.absolute()))


def select(files: list[Path], root: Path, given: Iterable[Path]) -> list[Path]:
    """The files of the stack a check of the `given` files needs (`validate FILE...`, the
    pre-commit hook): each given spec with the `_defaults.yaml` files of its folder and those
    above it; every spec at or below a given `_defaults.yaml`; the whole stack for a given
    `_settings.yaml`. Given files outside `root` are not the stack's: left out.

    Paths are compared made absolute, not resolved: one `stat` per file of a large stack would
    cost more than the check of the few files a commit changes."""
    wanted = {_absolute(p) for p in given}
    if any(_absolute(root / name) in wanted for name in SETTINGS_NAMES):
        return files
    absolute = {f: _absolute(f) for f in files}
    changed = {a.parent for a in absolute.values() if a.name in DEFAULTS_NAMES and a in wanted}
    specs = {
        f
        for f, a in absolute.items()
        if not f.name.startswith("_")
        and (a in wanted or any(d == a.parent or d in a.parents for d in changed))
    }
    needed = {absolute[f].parent for f in specs}
    return [
        f
        for f in files
        if f in specs
        or absolute[f] in wanted
        or (f.name in DEFAULTS_NAMES and any(absolute[f].parent in (n, *n.parents) for n in needed))
    ]
