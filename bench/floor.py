"""The floor: what any tool must do for a plan of a spec folder, and nothing else. Every YAML
file under the folder is read and parsed with libyaml (`yaml.CSafeLoader`), and each namespace's
live listing is read with one GET (decoded from JSON) from the same API stand-in the plan reads.
Run as a whole process, as the plan is:

    python -m bench.floor URL SPEC_DIR NAMESPACE...

The token is `HF_TOKEN`. Prints how many documents and endpoints it read. No positions, no
defaults, no checks, no model, no diff: `plan / floor` is what provisioner's own work costs.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import yaml


def main(argv: list[str]) -> int:
    url, spec_dir, *namespaces = argv
    documents = 0
    for path in sorted(Path(spec_dir).rglob("*.yaml")):
        documents += sum(1 for _ in yaml.load_all(path.read_bytes(), Loader=yaml.CSafeLoader))
    endpoints = 0
    for namespace in namespaces:
        request = urllib.request.Request(
            f"{url}/v2/endpoint/{namespace}",
            headers={"Authorization": f"Bearer {os.environ['HF_TOKEN']}"},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            listed = json.loads(answer.read())
        endpoints += len(listed["items"] if isinstance(listed, dict) else listed)
    print(f"read {documents} documents, {endpoints} endpoints")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
