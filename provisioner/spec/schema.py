"""The JSON Schema of a spec (package data) and its errors as diagnostics a person can act on.

The schema file is the single source of the spec's structure: `provisioner schema` prints it,
editors use it for completion, and `validate` checks every document against it. Rules that need
more than one field (scale-to-zero, engine options, duplicates) live in `checks`.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioner.spec import compiled
from provisioner.spec.diagnostics import Diagnostic, shown
from provisioner.spec.loader import Document, KeyPath

if TYPE_CHECKING:
    # jsonschema is imported when a document is not plainly valid (`check`), not before: its
    # import is most of `validate`'s start-up (see `compiled`).
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "endpoint.schema.json"
SETTINGS_SCHEMA_FILE = "settings.schema.json"


@cache
def _load(name: str) -> dict[str, Any]:
    # Beside this module (package data), read directly: importlib.resources costs ~5 ms of
    # `validate`'s start-up, and provisioner is never imported from a zip.
    text = (Path(__file__).parent / name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def endpoint_schema() -> dict[str, Any]:
    """The spec schema, as shipped. Callers must not mutate it."""
    return _load(SCHEMA_FILE)


def settings_schema() -> dict[str, Any]:
    return _load(SETTINGS_SCHEMA_FILE)


def _without_required(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            # An `if` is a condition, not a requirement: `if engine is tei` without its
            # `required` would hold for a defaults file that names no engine.
            k: v if k == "if" else _without_required(v)
            for k, v in node.items()
            if k not in ("required", "$id")
        }
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


@cache
def defaults_schema() -> dict[str, Any]:
    """Schema of a `_defaults.yaml`: any part of a spec, nothing required, and no `name`."""
    schema: dict[str, Any] = _without_required(copy.deepcopy(endpoint_schema()))
    schema["$id"] = "urn:provisioner:schema:defaults:v1"
    schema["title"] = "provisioner _defaults.yaml"
    schema["description"] = (
        "Values deep-merged into every spec at or below this folder; the nearest folder wins and "
        "the spec itself wins over all."
    )
    del schema["properties"]["name"]
    # A smoke test's request and expected answer belong to one endpoint (its task, its model):
    # deep-merged from a folder's defaults, half of one would silently combine with another.
    del schema["properties"]["smoke"]
    # One variable name for a whole folder would give every endpoint's URL the same name.
    del schema["properties"]["outputs"]
    return schema


def dotted(path: Sequence[str | int]) -> str:
    """`model.env.KEY`, `tags[1]`: how a field is named in messages."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing (null)" if value is None else type(value).__name__


_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


_LOWER_DASH = "use lowercase letters, digits and '-'"
_RULES = {
    "name": (
        "use lowercase letters, digits and '-', start with a letter, end with a letter or digit"
    ),
    "stack": "use lowercase letters, digits and '-', start and end with a letter or digit",
    "namespace": "use letters, digits, '-', '_' and '.'",
    "repository": "use 'owner/model', e.g. google/flan-t5-base",
    "region": _LOWER_DASH,
    "instance_type": _LOWER_DASH,
    "task": _LOWER_DASH,
    "framework": _LOWER_DASH,
    "instance_size": "use x1, x2, x4, ...",
    "account_id": "must be 12 digits",
    "path": "must start with '/'",
    "health_route": "must start with '/'",
    "domain": "use a host name such as models.example.com",
    "tags": "use letters, digits and _.:=/-, starting with a letter or digit",
    "from_env": "use an environment variable name (letters, digits and '_')",
    "url_env": "use an environment variable name (letters, digits and '_', not starting with a "
    "digit), e.g. HUGGINGFACE_ENDPOINT_URL",
    "regions": _LOWER_DASH,
    "instance_types": _LOWER_DASH,
    "require_scale_to_zero": "write a folder relative to the spec directory, e.g. dev",
}


# Names people reach for that are far (as difflib measures it) from the key (or value) meant: a
# close match to one of these suggests its key, when that key is allowed where the mistake is.
_ALIASES = {
    "environment": "env",
    "env_vars": "env",
    "variables": "env",
    "arguments": "args",
    "replicas": "max_replicas",
    # `pooling`: the last token is `last-token` to TEI, `last` to llama.cpp.
    "last-token": "last",
    "last": "last-token",
}


def _suggest(word: str, choices: Sequence[str]) -> str:
    """`; did you mean 'x'?` for the closest choice (case aside: `AWS` -> `aws`), if any."""
    candidates = {c.lower(): c for c in choices}
    candidates.update({a: k for a, k in _ALIASES.items() if k in choices and a not in candidates})
    import difflib  # only a mistake needs it: not imported for a valid stack

    close = difflib.get_close_matches(word.lower(), list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {candidates[close[0]]!r}?" if close else ""


# (path, point-at-key, message): one diagnostic, before it is given a file position.
_Found = Iterator[tuple[KeyPath, bool, str]]


def _keyword_schema(error: ValidationError) -> dict[str, Any]:
    return error.schema if isinstance(error.schema, dict) else {}


def _unknown_keys(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    value: Any = error.instance
    allowed = sorted(_keyword_schema(error).get("properties", {}))
    for key in sorted(set(value) - set(allowed)):
        if not path and key == "name":
            yield (key,), True, "'name' cannot be set in _defaults.yaml: each spec names itself"
            continue
        if not path and key == "smoke":
            yield (
                (key,),
                True,
                "'smoke' cannot be set in _defaults.yaml: a smoke test belongs to one endpoint "
                "(its task, its answer); put it in that endpoint's spec",
            )
            continue
        if not path and key == "outputs":
            yield (
                (key,),
                True,
                "'outputs' cannot be set in _defaults.yaml: each endpoint's URL needs a variable "
                "name of its own; put it in that endpoint's spec",
            )
            continue
        hint = _suggest(key, allowed) or f" (allowed: {', '.join(allowed)})"
        yield (*path, key), True, f"{prefix}unknown key {shown(key)}{hint}"


def _not_a_choice(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    value: Any = error.instance
    choices = [str(c) for c in _keyword_schema(error).get("enum", [])]
    hint = _suggest(str(value), choices)
    if dotted(path) == "type" and value == "protected":
        hint = "; 'protected' is now called 'authenticated' (token-gated, public URL)"
    yield path, False, f"{prefix}{shown(value)} is not one of {', '.join(choices)}{hint}"


def _wrong_type(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    value: Any = error.instance
    if len(path) == 3 and path[:2] == ("model", "secrets"):
        yield (
            path,
            False,
            f"{prefix}secret values must not be written in YAML; use {{from_env: VARIABLE}} "
            "and set VARIABLE where apply runs",
        )
        return
    expected = _EXPECTED.get(str(error.validator_value), str(error.validator_value))
    hint = ""
    if expected == "a string" and isinstance(value, bool):
        hint = f'; quote it: "{str(value).lower()}"'
    elif path[-1:] == ("instance_size",) and isinstance(value, int):
        hint = f'; write "x{value}"'  # sizes are x1, x2, ...: "2" would be invalid next
    elif expected == "a string" and isinstance(value, int | float):
        hint = f'; quote it: "{value}"'
    elif expected == "an integer" and isinstance(value, float) and value.is_integer():
        hint = f"; write {int(value)}" if abs(value) < 1e15 else ""
    yield path, False, f"{prefix}expected {expected}, got {type_name(value)}{hint}"


def _bad_pattern(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    value: Any = error.instance
    if "propertyNames" in error.absolute_schema_path:
        yield (
            (*path, value),
            True,
            f"{prefix}{shown(value)} is not a valid environment variable name "
            "(letters, digits and '_', not starting with a digit)",
        )
        return
    field = next((p for p in reversed(path) if isinstance(p, str)), "")
    rule = _RULES.get(field, f"must match {error.validator_value}")
    yield path, False, f"{prefix}{shown(value)} is invalid: {rule}"


def _too_long(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    limit = error.validator_value
    yield path, False, f"{prefix}{shown(error.instance)} is longer than {limit} characters"


def _empty_string(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    yield path, False, f"{prefix}must not be empty"


def _empty_mapping(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    yield path, False, f"{prefix}must not be empty; remove it instead"


def _empty_list(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    if path[:1] == ("schedule",):
        # A schedule with no window (or a window on no day) would never run the endpoint.
        yield path, False, f"{prefix}must list at least one; remove `schedule:` to run always"
        return
    # Policies' lists: an empty allow-list would allow nothing.
    yield path, False, f"{prefix}must list at least one value; remove it to allow any"


_BOUNDS = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}


def _out_of_range(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    op = _BOUNDS[str(error.validator)]
    yield path, False, f"{prefix}must be {op} {error.validator_value}, got {error.instance}"


def _listed_twice(error: ValidationError, path: KeyPath, prefix: str) -> _Found:
    value: Any = error.instance
    seen: set[str] = set()
    for index, item in enumerate(value):
        if item in seen:
            yield (*path, index), False, f"{prefix}{shown(item)} is listed twice"
        seen.add(item)


# Every keyword the schemas use, except `required` (which `check` gathers per mapping).
_BY_KEYWORD: dict[str, Callable[[ValidationError, KeyPath, str], _Found]] = {
    "additionalProperties": _unknown_keys,
    "enum": _not_a_choice,
    "type": _wrong_type,
    "pattern": _bad_pattern,
    "maxLength": _too_long,
    "minLength": _empty_string,
    "minProperties": _empty_mapping,
    "minItems": _empty_list,
    **dict.fromkeys(_BOUNDS, _out_of_range),
    "uniqueItems": _listed_twice,
}


def _messages(error: ValidationError) -> _Found:
    """(path, point-at-key, message) for one schema error."""
    path: KeyPath = tuple(error.absolute_path)
    where = dotted(path)
    prefix = f"{where}: " if where else ""
    handler = _BY_KEYWORD.get(str(error.validator))
    if handler is None:  # pragma: no cover - every keyword the schemas use has a handler
        yield path, False, f"{prefix}{error.message}"
        return
    yield from handler(error, path, prefix)


def _strict_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema counts 2.0 (and 1.0e+20) as an integer; the service's serde does not: it
    # answers "invalid type: floating point, expected u32" after other changes went out.
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
    )


def non_finite(data: Any, path: KeyPath = ()) -> Iterator[KeyPath]:
    """Paths of NaN and infinite numbers (YAML `.nan`, `.inf`): JSON cannot carry them, and they
    slip through every bound (NaN compares false with everything)."""
    if isinstance(data, float) and not math.isfinite(data):
        yield path
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from non_finite(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from non_finite(value, (*path, index))


def _non_finite_message(value: float, path: KeyPath) -> str:
    where = f"{dotted(path)}: " if path else ""
    word = "NaN (not a number)" if math.isnan(value) else "infinite"
    return f"{where}{word} is not allowed: write a finite number"


def _value_at(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _non_finite_found(document: Document, errors: list[ValidationError]) -> list[Diagnostic]:
    """NaN and infinities, except where a string was expected (its type error says "quote it")."""
    wrong_type = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    return [
        Diagnostic(document.mark(p), _non_finite_message(_value_at(document.data, p), p))
        for p in non_finite(document.data)
        if p not in wrong_type
    ]


@cache
def _compiled(key: str) -> Callable[[Any], Any]:
    """The schema named `key` (its `$id`) compiled to Python code by fastjsonschema (`compiled`):
    it speaks draft 2019-09, not 2020-12 (the keywords the schemas use mean the same in both), and
    counts 2.0 as an integer. It only ever answers "valid"; every problem is still found and
    worded by jsonschema (`check`)."""
    known = (endpoint_schema(), defaults_schema(), settings_schema())
    chosen = next(s for s in known if s["$id"] == key)
    return compiled.validator({k: v for k, v in chosen.items() if k != "$schema"})


def _integral_or_non_finite(data: Any) -> bool:
    """Whether `data` holds a float that the strict integer type or the NaN check would reject
    and fastjsonschema would accept (2.0, .nan, .inf)."""
    # A loop over a list of values still to look at, not a recursion of generators: this runs
    # on every spec, and most of its values are strings.
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            continue
        if isinstance(value, float):
            if value.is_integer() or not math.isfinite(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def plainly_valid(document: Document, schema: dict[str, Any] | None = None) -> bool:
    """True when `document` is valid against `schema` (default: the spec schema; also the
    defaults and settings schemas), decided by the compiled schema; False means "ask `check`"
    (invalid, or holding a value the compiled schema judges differently)."""
    import fastjsonschema

    if _integral_or_non_finite(document.data):
        return False
    try:
        _compiled((schema or endpoint_schema())["$id"])(document.data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _validator(schema: dict[str, Any]) -> Any:
    key = schema.get("$id")
    validator = _VALIDATORS.get(key) if key else None
    if validator is None or validator.schema is not schema:
        validator = _validator_class()(schema)
        if key:
            _VALIDATORS[key] = validator
    return validator


_VALIDATORS: dict[str, Any] = {}


def check(document: Document, schema: dict[str, Any]) -> list[Diagnostic]:
    """Every schema problem of `document`, pointed at the user's own key or value."""
    shipped = (endpoint_schema(), defaults_schema(), settings_schema())
    if any(schema is s for s in shipped) and plainly_valid(document, schema):
        return []
    errors = list(_validator(schema).iter_errors(document.data))
    found = _non_finite_found(document, errors)
    bad = set(non_finite(document.data))
    missing: dict[KeyPath, list[str]] = {}
    for error in errors:
        if tuple(error.absolute_path) in bad and error.validator in _BOUNDS:
            continue  # said once as "NaN is not allowed", not again as "must be <= ..."
        if error.validator == "required":
            # One line per mapping, not one per missing key.
            missing.setdefault(tuple(error.absolute_path), []).append(error.message.split("'")[1])
            continue
        for path, at_key, message in _messages(error):
            found.append(Diagnostic(document.mark(path, key=at_key), message))
    for path, keys in missing.items():
        where = f"{dotted(path)}: " if path else ""
        names = ", ".join(repr(k) for k in sorted(keys))
        plural = "s" if len(keys) > 1 else ""
        found.append(
            Diagnostic(
                document.mark(path, key=True), f"{where}missing required key{plural} {names}"
            )
        )
    return found


@cache
def _rule(schema: str, key: str) -> Callable[[object], bool]:
    """The schema's rule for a name (pattern and lengths), matched whole: JSON Schema's
    `pattern` searches, and Python's `$` also matches before a trailing newline, so
    `"manual\\n"` would pass the schema's own check."""
    rule = (endpoint_schema() if schema == "endpoint" else settings_schema())["properties"][key]
    pattern = re.compile(rule["pattern"].removeprefix("^").removesuffix("$"))
    low, high = int(rule["minLength"]), int(rule["maxLength"])

    def check(value: object) -> bool:
        return (
            isinstance(value, str)
            and low <= len(value) <= high
            and pattern.fullmatch(value) is not None
        )

    return check


def valid_name(name: object) -> bool:
    """Whether `name` passes the schema's rule for a spec's `name` (pattern and length): the
    only names a spec file may be named after, and the only ones a request's path may carry."""
    return _rule("endpoint", "name")(name)


def valid_namespace(namespace: object) -> bool:
    """Whether `namespace` passes the schema's rule for a namespace (`_settings.yaml`)."""
    return _rule("settings", "namespace")(namespace)
