"""`convert.structure` (a walk over the model's type hints, cheap to import) builds exactly what
cattrs' converter builds, value for value and type for type (1.0, not 1; tuples, not lists), for
every spec the tests and the examples hold: `validate` starts faster without cattrs, and a plan
must not change because of it."""

from __future__ import annotations

from pathlib import Path

from provisioner.spec import checks, convert, schema
from provisioner.spec.loader import Document, load_file
from provisioner.spec.model import EndpointSpec, Source
from provisioner.spec.stack import merge_documents

ROOT = Path(__file__).resolve().parents[2]


def _documents() -> list[Document]:
    """Every document under endpoints/ and tests/, each over the `_defaults.yaml` of its
    folders (the nearest last)."""
    files = sorted([*(ROOT / "endpoints").rglob("*.y*ml"), *(ROOT / "tests").rglob("*.y*ml")])
    loaded = {path: load_file(path)[0] for path in files}
    defaults = {
        p.parent: docs[0] for p, docs in loaded.items() if p.name == "_defaults.yaml" and docs
    }
    found = []
    for path, documents in loaded.items():
        if path.name.startswith("_"):
            continue
        chain = [
            defaults[f] for f in sorted(defaults, key=lambda f: len(f.parts)) if f in path.parents
        ]
        found += [merge_documents(chain, d) for d in documents if isinstance(d.data, dict)]
    return found


def _by_cattrs(document: Document) -> EndpointSpec:
    real = convert.structure
    built: list[EndpointSpec] = []

    def through_cattrs(data: dict[str, object], *, source: Source) -> EndpointSpec:
        spec: EndpointSpec = convert._converter().structure(
            {**data, "source": source}, EndpointSpec
        )
        built.append(spec)
        return spec

    checks.structure = through_cattrs  # type: ignore[assignment]
    try:
        checks.build(document, default_namespace="acme")
    finally:
        checks.structure = real
    return built[0]


def test_structure_builds_what_cattrs_builds_for_every_valid_spec_the_tests_hold() -> None:
    compared = 0
    for document in _documents():
        if schema.check(document, schema.endpoint_schema()) or any(
            d.severity.name == "ERROR" for d in checks.rules(document)
        ):
            continue
        ours = checks.build(document, default_namespace="acme")
        theirs = _by_cattrs(document)
        assert ours == theirs, document.file
        assert repr(ours) == repr(theirs), document.file  # 1 == 1.0, but not in a repr
        assert convert.unstructure(ours) == convert.unstructure(theirs)
        compared += 1
    assert compared > 40
