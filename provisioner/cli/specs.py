"""The stack as every command loads it: through the user's spec cache (`spec.cache`), which
`PROVISIONER_SPEC_CACHE` turns off or moves. One place, so that no command reads specs
differently from another."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from provisioner.spec.cache import SpecCache
from provisioner.spec.diagnostics import Diagnostics
from provisioner.spec.stack import Stack, load_stack


def load_specs(
    spec_dir: Path, *, check_policies: bool = True, only: Iterable[Path] | None = None
) -> tuple[Stack, Diagnostics]:
    cache = SpecCache.for_stack(spec_dir, os.environ)
    return load_stack(spec_dir, check_policies=check_policies, only=only, cache=cache)
