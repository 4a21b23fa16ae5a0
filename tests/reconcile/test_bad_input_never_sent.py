"""The bad-input corpus (`tests/spec/test_bad_input_corpus.py`) against the emulator: a spec
with a bad value next to a valid one stops `apply` before any mutating call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.emulator import Emulator
from tests.reconcile.helpers import mutations
from tests.spec.test_bad_input_corpus import BASE, CASES, _spec_with


@pytest.mark.parametrize(("path", "value"), CASES[::7])
def test_bad_value_never_reaches_the_service(
    path: tuple[str, ...],
    value: Any,
    tmp_path: Path,
    cli: Any,
    emulator: Emulator,
) -> None:
    specs = tmp_path / "endpoints"
    specs.mkdir()
    (specs / "svc.yaml").write_text(_spec_with(path, value))
    write_ok = specs / "ok.yaml"
    write_ok.write_text(yaml.safe_dump({**BASE, "name": "ok"}))
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1, result.text
    assert mutations(emulator) == []  # not even for the valid spec beside it
