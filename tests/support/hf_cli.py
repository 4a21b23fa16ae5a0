"""Run the real `hf` CLI of huggingface_hub against an emulator.

The Inference Endpoints URL is a hard-coded constant in huggingface_hub (no env var), so this
wrapper points it at `$PROVISIONER_EMULATOR_URL/v2` and then calls the unchanged `hf` entry point:

    PROVISIONER_EMULATOR_URL=http://127.0.0.1:8790 HF_TOKEN=hf_demo \
        python tests/support/hf_cli.py endpoints ls --namespace demo
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    url = os.environ["PROVISIONER_EMULATOR_URL"].rstrip("/")
    # HF_ENDPOINT is read when huggingface_hub is imported; set it first so whoami and the
    # agent-harnesses fetch also stay on the emulator.
    os.environ["HF_ENDPOINT"] = url
    from huggingface_hub import constants

    constants.INFERENCE_ENDPOINTS_ENDPOINT = f"{url}/v2"
    constants.ENDPOINT = url
    from huggingface_hub.cli.hf import main as hf_main

    sys.argv = ["hf", *sys.argv[1:]]
    hf_main()


if __name__ == "__main__":
    main()
