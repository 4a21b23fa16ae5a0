"""Test helpers shared by every test package."""

from pathlib import Path

# The wrapper that runs huggingface_hub's real `hf` CLI against an emulator (see its docstring).
HF_CLI = Path(__file__).with_name("hf_cli.py")

# One fixed instant for every `schedule:` (the example specs have one), so that no test depends
# on the day or hour it runs: Wednesday 2027-03-24 11:00 in Madrid, inside the examples' window.
# `tests/conftest.py` exports it as PROVISIONER_NOW; contexts built with their own environ set it.
FIXED_NOW = "2027-03-24T10:00:00Z"
