"""Creating endpoints through the real client with sensible defaults."""

from __future__ import annotations

from typing import Any

from huggingface_hub import HfApi, InferenceEndpoint

DEFAULTS: dict[str, Any] = {
    "repository": "gpt2",
    "framework": "pytorch",
    "accelerator": "cpu",
    "instance_size": "x2",
    "instance_type": "intel-spr",
    "region": "us-east-1",
    "vendor": "aws",
    "namespace": "demo",
}

# Durations of the default config, in emulated seconds.
TO_RUNNING = 3 + 12  # pending + initializing
RESUME_TO_RUNNING = 3 + 5  # pending + resume
UPDATING = 8
SCALE_UP = 5
DELETE_GRACE = 1


def create(api: HfApi, name: str = "ep", **overrides: Any) -> InferenceEndpoint:
    """`create_inference_endpoint` with defaults. The token is passed explicitly: without it, the
    returned object's `fetch()`/`wait()` use a fresh `HfApi()` with no token (a client quirk)."""
    return api.create_inference_endpoint(name, **{**DEFAULTS, "token": api.token, **overrides})
