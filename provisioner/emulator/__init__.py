"""A local, faithful emulator of the Hugging Face Inference Endpoints REST API.

`Emulator(EmulatorConfig(...))` serves the API over real HTTP for tests and `make demo`; see
README.md in this package for routes, behaviours and the choices made where the real API is unknown.
This package imports nothing else from `provisioner` and never `huggingface_hub`.
"""

from provisioner.emulator.config import (
    ConfigError,
    Durations,
    EmulatorConfig,
    OrgConfig,
    TokenConfig,
    UserConfig,
    load_config_file,
)
from provisioner.emulator.emulator import Emulator

__all__ = [
    "ConfigError",
    "Durations",
    "Emulator",
    "EmulatorConfig",
    "OrgConfig",
    "TokenConfig",
    "UserConfig",
    "load_config_file",
]
