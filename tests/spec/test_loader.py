"""The YAML loader: positions, duplicate keys, aliases, encodings, tags."""

from __future__ import annotations

from pathlib import Path

import yaml

from provisioner.spec.diagnostics import Mark
from provisioner.spec.loader import MAX_VALUES_PER_DOCUMENT, load_file, load_text

F = Path("spec.yaml")


def test_marks_point_at_keys_and_values_one_based() -> None:
    text = "name: demo\nmodel:\n  repository: gpt2\n  env:\n    A: '1'\ntags: [x, y]\n"
    (doc,), errors = load_text(text, F)
    assert errors == []
    assert doc.mark(("name",)) == Mark(F, 1, 7)
    assert doc.mark(("name",), key=True) == Mark(F, 1, 1)
    assert doc.mark(("model", "env", "A")) == Mark(F, 5, 8)
    assert doc.mark(("model", "env", "A"), key=True) == Mark(F, 5, 5)
    assert doc.mark(("tags", 1)) == Mark(F, 6, 11)
    # A path that does not exist falls back to its nearest ancestor.
    assert doc.mark(("model", "missing")) == Mark(F, 3, 3)


def test_duplicate_key_is_an_error_at_the_second_key() -> None:
    (doc,), errors = load_text("a: 1\nb: 2\na: 3\n", F)
    assert [str(e) for e in errors] == [
        "spec.yaml:3:1: error: duplicate key 'a' (first defined at line 1); "
        "YAML keeps only one of them"
    ]
    assert doc.data == {"a": 1, "b": 2}


def test_merge_keys_work_and_explicit_keys_win_without_duplicate_errors() -> None:
    text = "base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n"
    (doc,), errors = load_text(text, F)
    assert errors == []
    assert doc.data["thing"] == {"x": 1, "y": 3}


def test_aliases_within_bounds_are_expanded() -> None:
    (doc,), errors = load_text("a: &a [1, 2]\nb: *a\n", F)
    assert errors == []
    assert doc.data == {"a": [1, 2], "b": [1, 2]}


def test_alias_bomb_is_stopped_with_a_diagnostic() -> None:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 7):
        refs = ", ".join([f"*l{i - 1}"] * 10)
        lines.append(f"l{i}: &l{i} [{refs}]")
    documents, errors = load_text("\n".join(lines) + "\n", F)
    assert documents == []
    assert len(errors) == 1
    assert f"more than {MAX_VALUES_PER_DOCUMENT} values" in errors[0].message


def test_unsupported_tag_and_non_string_key_are_reported() -> None:
    _, errors = load_text("a: !Ref other\n1: x\n", F)
    messages = [str(e) for e in errors]
    assert "spec.yaml:1:4: error: unsupported YAML tag '!Ref'" in messages
    assert "spec.yaml:2:1: error: key '1' must be a string; quote it" in messages


def test_syntax_error_has_position() -> None:
    _, errors = load_text("a: [1, 2\nb: 3\n", F)
    assert len(errors) == 1
    assert errors[0].mark.line == 2
    assert errors[0].message.startswith("YAML syntax error:")


def test_control_character_is_reported_with_position() -> None:
    _, errors = load_text("a: 1\nb: \x00\n", F)
    assert [(e.mark.line, e.mark.col) for e in errors] == [(2, 4)]


def test_multiple_documents_and_empty_ones(tmp_path: Path) -> None:
    path = tmp_path / "multi.yaml"
    path.write_text("---\na: 1\n---\n---\nb: 2\n")
    documents, errors = load_file(path)
    assert errors == []
    assert [d.data for d in documents] == [{"a": 1}, {"b": 2}]
    assert [d.index for d in documents] == [0, 2]


def test_utf8_bom_is_accepted_and_bad_bytes_are_located(tmp_path: Path) -> None:
    good = tmp_path / "bom.yaml"
    good.write_bytes(b"\xef\xbb\xbfa: caf\xc3\xa9\n")
    (doc,), errors = load_file(good)
    assert errors == [] and doc.data == {"a": "café"}
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: caf\xe9\n")
    _, errors = load_file(bad)
    assert [(e.mark.line, e.mark.col) for e in errors] == [(2, 7)]


def test_dates_stay_text() -> None:
    (doc,), _ = load_text("revision: 2024-01-01\n", F)
    assert doc.data == {"revision": "2024-01-01"}


# Every form of a scalar YAML 1.1 resolves (and a few that look like numbers but are not):
# plain decimals are read by the loader itself, everything else by PyYAML's SafeConstructor.
TRICKY_SCALARS = [
    *("0", "7", "10", "1000", "12345678901234567890", "-1", "+1", "-0", "+0"),
    *("00", "007", "017", "08", "0o17", "0x1F", "0X1F", "-0x1F", "0b101", "-0b101"),
    *("1_000", "1__0", "0_7", "1:30", "190:20:30", "-1:30", "١٢", "²"),
    *("1.5", "-1.5", "1e3", "1.0e+3", "6.8523015e+5", "685.230_15e+03", "190:20:30.15"),
    *(".inf", "-.Inf", "+.INF", ".nan", ".NaN", "1.", ".5"),
    *("yes", "No", "ON", "off", "y", "n", "true", "False", "TRUE"),
    *("null", "~", "Null", "NULL", "''", '""', "'12'", '"0x1F"'),
    *("!!int '42'", "!!int 0x1F", "!!str 42", "!!float 1", "!!bool yes", "!!null ''"),
    *("!!int '١٢'", "2024-01-01x", "0.1.2", "1,000", "12 "),
]


def _typed(value: object) -> object:
    """Values with their types, compared as text: True equals 1 and NaN equals nothing."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return type(value).__name__, repr(value)


def test_scalars_read_as_pyyamls_safe_loader_reads_them() -> None:
    as_values = "".join(f"k{i}: {s}\n" for i, s in enumerate(TRICKY_SCALARS))
    as_items = "items:\n" + "".join(f"  - {s}\n" for s in TRICKY_SCALARS)
    for text in (as_values, as_items):
        (doc,), errors = load_text(text, F)
        assert errors == []
        assert _typed(doc.data) == _typed(yaml.safe_load(text))
