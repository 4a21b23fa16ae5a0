"""Run the real `hf` CLI of huggingface_hub against an emulator, through the shipped
`provisioner hf --api-url URL ...` passthrough (so the hf tests exercise it):

    PROVISIONER_EMULATOR_URL=http://127.0.0.1:8790 HF_TOKEN=hf_demo \
        python tests/support/hf_cli.py endpoints ls --namespace demo
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from provisioner.cli.main import main as provisioner

    provisioner(["hf", "--api-url", os.environ["PROVISIONER_EMULATOR_URL"], *sys.argv[1:]])


if __name__ == "__main__":
    main()
