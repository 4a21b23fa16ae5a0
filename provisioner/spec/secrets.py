"""What "looks secret" means, in one place: secret-looking names, token-shaped values, redaction,
and the variables that hold a pipeline's own credentials.

Two strengths on purpose, both defined here:

- `looks_secret` is precise (whole words in the name, or a value that is wholly a token): validate
  warns about it and plans hide its value, so a false positive would nag or hide a real diff
  (`MAX_TOTAL_TOKENS` is a TGI setting, not a secret).
- `redact` is loose (the words anywhere in an environment variable's name, token shapes
  anywhere in the text), where hiding too much costs nothing; `SECRETISH_NAME` and
  `scrub_tokens` are what `spec/scrub.py`, the one scrubber of what is printed or stored,
  builds on.

Pure string functions: no I/O, no environment reads (the caller passes the environment in).
The emulator keeps its own copy for its request log (`emulator/journal.py`) because it may import
nothing from provisioner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Whole words only: MAX_TOTAL_TOKENS is a TGI setting, not a secret.
_SECRET_NAME = re.compile(
    r"(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|CREDENTIALS?)($|_)", re.I
)
# Anywhere in the name: for redaction, where a false positive costs nothing.
SECRETISH_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY|CREDENTIAL", re.I)

# A Hugging Face token: a value that is one, and a token anywhere in a text.
_HF_TOKEN = re.compile(r"^hf_[A-Za-z0-9]{20,}$")
_TOKEN_IN_TEXT = re.compile(r"hf_[A-Za-z0-9]{6,}")

# Shorter environment values are not blanked: "1" or "true" would wreck the whole log.
_MIN_REDACTED = 6


def looks_secret(name: str, value: object) -> bool:
    """An env var that is probably a secret put in the wrong place: validate warns, and plans
    never show its value."""
    return bool(_SECRET_NAME.search(name)) or (
        isinstance(value, str) and bool(_HF_TOKEN.match(value))
    )


def scrub_tokens(text: str) -> str:
    """Blank anything that looks like a Hugging Face token."""
    return _TOKEN_IN_TEXT.sub("hf_***", text)


def redact(text: str, environ: Mapping[str, str]) -> str:
    """Blank token-shaped strings and the values of secret-looking environment variables."""
    for name, value in environ.items():
        if len(value) >= _MIN_REDACTED and SECRETISH_NAME.search(name):
            text = text.replace(value, "***")
    return scrub_tokens(text)


# The variables a pipeline running provisioner holds its own credentials in: the Hugging Face
# token that manages the endpoints, the state bucket's AWS keys, the CI's tokens (GitHub's, its
# OIDC request token, the Action's inputs) and provisioner's own settings (PROVISIONER_SECRETS
# holds every secret value). A `from_env` naming one would hand it to the endpoint's container.
_PIPELINE_PREFIXES = (
    "HF_",
    "HUGGING_FACE_",
    "AWS_",
    "GITHUB_",
    "GH_",
    "ACTIONS_",
    "INPUT_",
    "PROVISIONER_",
)
_PIPELINE_NAMES = frozenset({"CI_JOB_TOKEN"})
PIPELINE_CREDENTIALS = (
    "HF_*, AWS_*, GITHUB_*, GH_*, ACTIONS_*, INPUT_*, PROVISIONER_*, CI_JOB_TOKEN"
)


def pipeline_credential(name: str) -> bool:
    """Whether an environment variable is one a pipeline keeps its own credentials in, never
    meant for an endpoint's container (case-insensitive: Windows variables are)."""
    upper = name.upper()
    return upper in _PIPELINE_NAMES or upper.startswith(_PIPELINE_PREFIXES)


def own_variable(key: str) -> str:
    """The variable an endpoint's secret `key` is best read from: named after the key, unless
    the key is named like a pipeline credential (`ENDPOINT_HF_TOKEN` for HF_TOKEN). What
    `import` writes, and what a diagnostic suggests."""
    return f"ENDPOINT_{key.upper()}" if pipeline_credential(key) else key
