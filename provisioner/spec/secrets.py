"""What "looks secret" means, in one place: secret-looking names, token-shaped values, redaction.

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
