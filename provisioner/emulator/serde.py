"""Request-body decoding with the error texts of the real service (Rust, axum +
serde_path_to_error).

Owns the wording and status of decoding failures, which `huggingface_hub` shows verbatim:
- syntax errors: 400 text/plain `Failed to parse the request body as JSON: expected value at line 1
  column 1`
- type errors and missing fields: 422 text/plain `Failed to deserialize the JSON body into the
  target type: compute.scaling.minReplica: invalid type: string "x", expected u32 at line 1 column
  57`
and the primitive readers (`read_str`, `read_u32`, ...) that raise them with a path. Line and column
are found lazily, only when an error is reported, by walking the raw text. It must not know endpoint
fields.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, NoReturn

from provisioner.emulator.wire import ApiError

PathT = tuple[str | int, ...]

PARSE_PREFIX = "Failed to parse the request body as JSON"
DATA_PREFIX = "Failed to deserialize the JSON body into the target type"


class SchemaError(Exception):
    """A value at `path` does not fit the schema. For a missing field `path` is the containing
    object, whose end is where serde reports it. `syntax_like` selects the 400 parse-error form."""

    def __init__(self, path: PathT, message: str, *, syntax_like: bool = False) -> None:
        self.path = path
        self.detail = message
        self.syntax_like = syntax_like
        super().__init__(f"{path_text(path)}: {message}")


def path_text(path: Sequence[str | int]) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else seg)
    return out


def fail(path: PathT, message: str) -> NoReturn:
    raise SchemaError(path, message)


# --- decoding the body ------------------------------------------------------------------------

_SERDE_SYNTAX = {
    "Expecting value": "expected value",
    "Expecting ',' delimiter": "expected `,` or `}`",
    "Expecting ':' delimiter": "expected `:`",
    "Expecting property name enclosed in double quotes": "key must be a string",
    "Extra data": "trailing characters",
    "Unterminated string starting at": "EOF while parsing a string",
    "Invalid control character at": (
        "control character (\\u0000-\\u001F) found while parsing a string"
    ),
    "Invalid \\escape": "invalid escape",
}


def _no_constants(name: str) -> Any:
    # Python accepts NaN/Infinity; serde_json does not.
    raise ValueError(name)


def decode_body(body: bytes) -> tuple[str, Any]:
    """Decode a JSON body, or raise the 400 text/plain error axum's `Json` extractor sends."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(400, f"{PARSE_PREFIX}: invalid unicode code point", plain=True) from err
    if not text.strip():
        line = text.count("\n") + 1
        col = len(text) - (text.rfind("\n") + 1)
        raise ApiError(
            400,
            f"{PARSE_PREFIX}: EOF while parsing a value at line {line} column {col}",
            plain=True,
        )
    try:
        return text, json.loads(text, parse_constant=_no_constants)
    except RecursionError as err:
        raise ApiError(400, f"{PARSE_PREFIX}: recursion limit exceeded", plain=True) from err
    except json.JSONDecodeError as err:
        msg = _SERDE_SYNTAX.get(err.msg, err.msg[:1].lower() + err.msg[1:])
        if err.pos >= len(text.rstrip()):
            # serde names truncation explicitly and points at the last character read.
            inside = "an object" if text.lstrip().startswith("{") else "a value"
            msg = f"EOF while parsing {inside}"
            err.colno = max(err.colno - 1, 0)
        raise ApiError(
            400, f"{PARSE_PREFIX}: {msg} at line {err.lineno} column {err.colno}", plain=True
        ) from err
    except ValueError as err:
        raise ApiError(400, f"{PARSE_PREFIX}: expected value", plain=True) from err


def schema_failure(text: str, err: SchemaError) -> ApiError:
    """Turn a `SchemaError` into the text/plain answer, with serde's `at line L column C` suffix."""
    where = path_text(err.path)
    line, col = locate(text, err.path)
    detail = f"{where}: {err.detail}" if where else err.detail
    if err.syntax_like:
        # `model.task: null` is answered as a *parse* error with status 400 (huggingface_hub #4701).
        return ApiError(400, f"{PARSE_PREFIX}: {detail} at line {line} column {col}", plain=True)
    return ApiError(422, f"{DATA_PREFIX}: {detail} at line {line} column {col}", plain=True)


# --- locating a path in the raw text ----------------------------------------------------------

_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _value_end(text: str, i: int) -> int:
    return _DECODER.raw_decode(text, i)[1]


def locate(text: str, path: PathT) -> tuple[int, int]:
    """1-based line and serde-style column just after the value at `path` (or the deepest
    existing ancestor). Only called on the error path, so a second walk over the text is fine."""
    i = _skip(text, 0)
    for seg in path:
        nxt = _child(text, i, seg)
        if nxt is None:
            break
        i = nxt
    try:
        end = _value_end(text, i)
    except (json.JSONDecodeError, IndexError):
        end = len(text)
    line = text.count("\n", 0, end) + 1
    return line, end - (text.rfind("\n", 0, end) + 1)


def _child(text: str, i: int, seg: str | int) -> int | None:
    if i >= len(text):
        return None
    if text[i] == "{" and isinstance(seg, str):
        i = _skip(text, i + 1)
        found: int | None = None
        while i < len(text) and text[i] == '"':
            key, i = scanstring(text, i + 1)
            i = _skip(text, _skip(text, i) + 1)  # past ':'
            if key == seg:
                found = i  # keep scanning: serde and Python both keep the last duplicate
            i = _skip(text, _value_end(text, i))
            if i < len(text) and text[i] == ",":
                i = _skip(text, i + 1)
        return found
    if text[i] == "[" and isinstance(seg, int):
        i = _skip(text, i + 1)
        index = 0
        while i < len(text) and text[i] != "]":
            if index == seg:
                return i
            i = _skip(text, _value_end(text, i))
            if i < len(text) and text[i] == ",":
                i = _skip(text, i + 1)
            index += 1
    return None


# --- primitive readers ------------------------------------------------------------------------


def unexpected(value: Any) -> str:
    """serde's `Unexpected` rendering of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def _invalid_type(path: PathT, value: Any, expected: str) -> NoReturn:
    fail(path, f"invalid type: {unexpected(value)}, expected {expected}")


def read_str(value: Any, path: PathT) -> str:
    if not isinstance(value, str):
        _invalid_type(path, value, "a string")
    return value


def read_uint(value: Any, path: PathT, bits: int = 32) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _invalid_type(path, value, f"u{bits}")
    if isinstance(value, float):
        _invalid_type(path, value, f"u{bits}")
    if value < 0 or value >= 2**bits:
        fail(path, f"invalid value: integer `{value}`, expected u{bits}")
    return value


def read_f64(value: Any, path: PathT) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _invalid_type(path, value, "f64")
    return float(value)


def read_bool(value: Any, path: PathT) -> bool:
    if not isinstance(value, bool):
        _invalid_type(path, value, "a boolean")
    return value


def read_obj(value: Any, path: PathT, struct: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _invalid_type(path, value, f"struct {struct}")
    return value


def read_str_map(value: Any, path: PathT) -> dict[str, str]:
    if not isinstance(value, dict):
        _invalid_type(path, value, "a map")
    return {k: read_str(v, (*path, k)) for k, v in value.items()}


def read_str_list(value: Any, path: PathT) -> list[str]:
    if not isinstance(value, list):
        _invalid_type(path, value, "a sequence")
    return [read_str(v, (*path, i)) for i, v in enumerate(value)]


def read_variant(value: Any, path: PathT, variants: Sequence[str]) -> str:
    text = read_str(value, path)
    if text not in variants:
        listed = ", ".join(f"`{v}`" for v in variants)
        fail(path, f"unknown variant `{text}`, expected one of {listed}")
    return text


def field(obj: dict[str, Any], key: str, path: PathT) -> Any:
    """A required field: absent -> serde's `missing field`, reported on the containing object."""
    if key not in obj:
        fail(path, f"missing field `{key}`")
    return obj[key]
