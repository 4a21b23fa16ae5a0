"""What `provisioner validate` imports, in a fresh process as a pre-commit hook starts it: no
HTTP client (it never touches the API), and for a valid stack neither jsonschema nor cattrs,
whose imports were most of its start-up (the compiled schema says "valid" instead, and jsonschema
is imported only to word a problem). Modules are asserted, never the time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import fleet

EXAMPLES = Path(__file__).resolve().parents[2] / "endpoints"
HTTP_CLIENTS = (
    "huggingface_hub",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "requests",
    "urllib3",
    "boto3",
    "botocore",
    "aiohttp",
)
_PROBE = (
    "import json, sys\n"
    "from provisioner.cli.main import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as exit:\n    code = exit.code\n"
    "print(json.dumps({'code': code, 'modules': sorted({m.split('.')[0] for m in sys.modules})}))\n"
)


def _validate(spec_dir: Path, cache: Path) -> tuple[int, set[str]]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "validate", "--dir", str(spec_dir)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], set(result["modules"])


def test_validate_imports_no_http_client_and_no_jsonschema_for_a_valid_stack(
    tmp_path: Path,
) -> None:
    big = fleet.write_specs(tmp_path / "specs", 150, 2)
    cache = tmp_path / "cache"
    for spec_dir in (EXAMPLES, big):
        for _ in ("compiling the schemas", "from the cache"):
            code, modules = _validate(spec_dir, cache)
            assert code == 0
            assert not modules & set(HTTP_CLIENTS), sorted(modules & set(HTTP_CLIENTS))
            assert not modules & {"jsonschema", "cattrs", "attrs"}, spec_dir
    assert (
        sorted(p.suffix for p in (cache / "provisioner" / "validators").iterdir()) == [".bin"] * 3
    )


def test_a_spec_with_a_mistake_still_imports_no_http_client(tmp_path: Path) -> None:
    specs = fleet.write_specs(tmp_path / "specs", 3, 1)
    broken = next(specs.rglob("ep-*.yaml"))
    broken.write_text(broken.read_text().replace("instance_size: x2", "instance_size: huge"))
    code, modules = _validate(specs, tmp_path / "cache")
    assert code == 1
    assert "jsonschema" in modules  # it words the problem
    assert not modules & set(HTTP_CLIENTS)
