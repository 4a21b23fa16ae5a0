"""The one scrubber for everything printed or stored that may hold a secret or came from outside.

Text from outside (a service's error message, a smoke answer, the debug log, state and history
read back) may quote what provisioner sent: a 422 that echoes the PUT body holds the secret
values of that body. Before such text is printed or stored, a `Scrubber` blanks:

- every secret value in play: the values of the specs' `from_env` variables, the token(s), the
  values of environment variables whose names look secret (`secret_values`);
- values it does not know but can recognise: a word whose keyed fingerprint is one the state
  recorded (a previous value, rotated away from the environment), through `fingerprinted`;
- anything shaped like a Hugging Face token, and the userinfo of URLs
  (`https://user:pass@host` -> `https://***@host`);

and `outside` also escapes control characters (ESC and the other C0/C1 controls, DEL; newline
and tab kept), so that a message cannot move the cursor, retitle the terminal or hide a line.

Pure string functions: no I/O, no environment reads (the caller passes the environment and the
fingerprint test in). The layers below the CLI build one where outside text meets output or
storage (the apply's ledger, the smoke runner, the CLI's error and state printing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from provisioner.spec.secrets import SECRETISH_NAME, scrub_tokens

BLANK = "***"
# Shorter values are not blanked: "1" or "on" would blank half of every answer.
MIN_HIDDEN = 4
# Environment values blanked for their name alone: "true" under SOME_KEY_ENABLED is no secret.
MIN_BY_NAME = 6

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F: 0x9b is a CSI too).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# scheme://user[:password]@ : the user stops at "/", "?", "#" or "@"; the password may hold a
# "/" (AWS secret keys do, unencoded), so after a ":" only a space, a quote or "@" ends it. An
# "@" in a path after a port is blanked too: hiding too much here costs nothing.
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#@\"'<>]*(?::[^\s@\"'<>]*)?@")
# The words a fingerprint is tested on: runs between spaces, quotes, brackets and separators.
_WORD = re.compile(r"[^\s\"'`,;(){}\[\]<>=:|\\]+")


def escape_controls(text: str) -> str:
    """`text` with each control character but newline and tab shown as `\\x1b` (its code)."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def escape_json_controls(text: str) -> str:
    """A JSON document with the controls its encoder leaves raw (DEL, C1) written as `\\u00XX`
    escapes: it still parses to the same value, and prints nothing a terminal obeys."""
    return _CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def strip_userinfo(text: str) -> str:
    """`text` with the user and password of each URL in it blanked."""
    return _USERINFO.sub(rf"\1{BLANK}@", text)


def secret_values(environ: Mapping[str, str], variables: Iterable[str] = ()) -> frozenset[str]:
    """The values to blank: those of `variables` (the specs' `from_env` names) and of every
    environment variable whose name looks secret (`HF_TOKEN`, `AWS_SECRET_ACCESS_KEY`, ...)."""
    named = {environ.get(v, "") for v in variables}
    by_name = {
        value
        for name, value in environ.items()
        if len(value) >= MIN_BY_NAME and SECRETISH_NAME.search(name)
    }
    return frozenset(v for v in named | by_name if len(v) >= MIN_HIDDEN)


def _never(word: str) -> bool:
    return False


@dataclass(frozen=True)
class Scrubber:
    """Blanks the `values` it was given, the words `fingerprinted` recognises, token shapes and
    URL userinfo (`secrets`); `outside` escapes control characters as well."""

    values: frozenset[str] = frozenset()
    fingerprinted: Callable[[str], bool] = field(default=_never, compare=False)

    def with_values(self, values: Iterable[str]) -> Scrubber:
        more = {v for v in values if len(v) >= MIN_HIDDEN}
        return Scrubber(self.values | more, self.fingerprinted)

    def secrets(self, text: str) -> str:
        # Longest first: a value that contains another is blanked whole.
        for value in sorted(self.values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, BLANK)
        if self.fingerprinted is not _never:
            found = {w for w in _WORD.findall(text) if len(w) >= MIN_HIDDEN}
            for word in sorted(found, key=len, reverse=True):
                if self.fingerprinted(word):
                    text = text.replace(word, BLANK)
        return strip_userinfo(scrub_tokens(text))

    def outside(self, text: str) -> str:
        """Text that came from outside, fit to print or store."""
        return escape_controls(self.secrets(text))

    def outside_json(self, text: str) -> str:
        """A JSON document holding text from outside, fit to print (it still parses)."""
        return escape_json_controls(self.secrets(text))

    def maybe(self, text: str | None) -> str | None:
        return None if text is None else self.outside(text)
