"""The compiled schema (fastjsonschema) that every document is asked first never calls a spec
valid that jsonschema, the source of every schema diagnostic, would reject: otherwise
`validate` would pass what jsonschema refuses."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioner.spec import schema
from provisioner.spec.loader import Document, load_file
from provisioner.spec.stack import load_stack, merge_documents

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "endpoints"


def _examples() -> list[dict[str, Any]]:
    """The examples as the schema sees them: each spec over its `_defaults.yaml` chain."""
    files = sorted(EXAMPLES.rglob("*.yaml"))
    defaults = {p.parent: load_file(p)[0][0] for p in files if p.name == "_defaults.yaml"}
    merged = []
    for path in files:
        if path.name.startswith("_"):
            continue
        chain = [
            defaults[f] for f in sorted(defaults, key=lambda f: len(f.parts)) if f in path.parents
        ]
        merged.append(merge_documents(chain, load_file(path)[0][0]).data)
    assert len(merged) == 5
    return merged


def _document(data: Any) -> Document:
    return Document(Path("x.yaml"), 0, data, {})


# A copy, not the shipped object: `check` asks the compiled schema first only for the shipped
# schemas, so this one is judged by jsonschema alone (what the compiled one must agree with).
_JSONSCHEMA_ONLY = copy.deepcopy(schema.endpoint_schema())


def _agrees(data: Any) -> None:
    document = _document(data)
    if schema.plainly_valid(document):
        assert schema.check(document, _JSONSCHEMA_ONLY) == [], data


def test_every_merged_example_is_plainly_valid() -> None:
    """Else the fast path is never taken and the property below proves nothing."""
    for data in _examples():
        assert schema.plainly_valid(_document(data)), data["name"]


def test_no_document_in_the_test_corpus_is_plainly_valid_but_invalid() -> None:
    """Every YAML document the tests hold (invalid cases, hostile input, plans), as written."""
    checked = 0
    for path in sorted((ROOT / "tests").rglob("*.y*ml")):
        documents, _ = load_file(path)
        for document in documents:
            _agrees(document.data)
            checked += 1
    assert checked > 50


# Values a YAML author can write: the wrong type, out of range, 2.0 for 2, NaN, nesting.
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 2, 2.0, -1, 1e20, "", "x" * 200, "aws", "x2", "gpu", "Bad Name"]),
    st.text(max_size=12),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*path, index))
    return found


@settings(max_examples=400, deadline=None)
@given(
    which=st.integers(min_value=0, max_value=4),
    picks=st.lists(st.tuples(st.integers(min_value=0), _VALUES), min_size=1, max_size=3),
    drop=st.booleans(),
)
def test_a_mutated_example_is_never_plainly_valid_when_jsonschema_rejects_it(
    which: int, picks: list[tuple[int, Any]], drop: bool
) -> None:
    data = copy.deepcopy(_EXAMPLES[which % len(_EXAMPLES)])
    for index, value in picks:
        paths = _paths(data)
        path = paths[index % len(paths)]
        if not path:
            continue
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        if drop and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    _agrees(data)


def _stack(folder: Path, specs: dict[str, str]) -> list[str]:
    folder.mkdir()
    (folder / "_settings.yaml").write_text("stack: big\nnamespace: acme\n")
    for name, replicas in specs.items():
        (folder / f"{name}.yaml").write_text(
            f"name: {name}\n"
            "model: {repository: gpt2}\n"
            "compute: {vendor: aws, region: us-east-1, accelerator: cpu, instance_type: intel-spr,"
            " instance_size: x2}\n"
            f"scaling: {{min_replicas: {replicas}, max_replicas: 2}}\n"
        )
    _, diagnostics = load_stack(folder)
    return sorted(f"{Path(str(d.subject)).name}: {d.message}" for d in diagnostics)


def test_a_large_stack_reports_the_same_errors_as_a_small_one(tmp_path: Path) -> None:
    """Among many valid specs (the compiled schema says "valid"), a broken spec reads word for
    word as it does alone (jsonschema words it)."""
    broken = {"e003": "2.0", "e005": "-1", "e007": ".nan", "e009": "'1'"}
    specs = {f"e{i:03d}": broken.get(f"e{i:03d}", "1") for i in range(128)}
    large = _stack(tmp_path / "large", specs)
    small = [m for name, r in broken.items() for m in _stack(tmp_path / name, {name: r})]
    assert len(small) == len(broken)
    assert large == sorted(small)


_EXAMPLES = _examples()
