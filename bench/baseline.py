"""The baseline: what Terraform providers do to refresh, one GET per endpoint with parallelism
10, through huggingface_hub's `get_inference_endpoint`. Run as a whole process:

    python -m bench.baseline URL NAMES_JSON

NAMES_JSON maps namespace -> endpoint names (what a Terraform state would list). The token is
`HF_TOKEN`. Prints how many endpoints it read.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PARALLELISM = 10


def main(argv: list[str]) -> int:
    url, names_file = argv
    from huggingface_hub import constants

    constants.INFERENCE_ENDPOINTS_ENDPOINT = url + "/v2"
    from huggingface_hub import HfApi

    token = os.environ["HF_TOKEN"]
    api = HfApi(endpoint=url, token=token)
    placement: dict[str, list[str]] = json.loads(Path(names_file).read_text())
    work = [(ns, name) for ns, names in placement.items() for name in names]
    with ThreadPoolExecutor(PARALLELISM) as pool:
        read = list(
            pool.map(lambda job: api.get_inference_endpoint(job[1], namespace=job[0]), work)
        )
    running = sum(1 for ep in read if ep.status == "running")
    print(f"read {len(read)} endpoints, {running} running")
    return 0 if len(read) == len(work) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
