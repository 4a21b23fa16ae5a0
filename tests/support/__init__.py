"""Test helpers shared by every test package."""

from pathlib import Path

# The wrapper that runs huggingface_hub's real `hf` CLI against an emulator (see its docstring).
HF_CLI = Path(__file__).with_name("hf_cli.py")
