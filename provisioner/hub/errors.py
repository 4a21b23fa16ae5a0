"""The project's own API error tree, keyed by what the HTTP status means for the caller, under
`ProvisionerError`, the one root the CLI catches.

Every failure that leaves `provisioner.hub` is one of these, chained (`from`) to the
`huggingface_hub` or transport error that caused it. Messages carry the service's own words,
truncated, and never a token.
"""

from __future__ import annotations

from provisioner.spec.diagnostics import Diagnostic, ProvisionerError, clip
from provisioner.spec.scrub import escape_controls, strip_userinfo
from provisioner.spec.secrets import scrub_tokens

MAX_MESSAGE = 500


def scrub(text: str) -> str:
    """A server message on one line, tokens and URL userinfo blanked, control characters
    escaped, cut to `MAX_MESSAGE` characters (saying how many more there were). Secret values
    are blanked where the caller knows them (`spec.scrub.Scrubber`: the apply's ledger)."""
    return clip(escape_controls(strip_userinfo(scrub_tokens(" ".join(text.split())))), MAX_MESSAGE)


class ApiError(ProvisionerError):
    """A call to the Inference Endpoints API failed: one diagnostic about the run, its message.
    The workflows re-raise it with what they were doing ("cannot read the live endpoints")."""

    retryable = False

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(Diagnostic(None, scrub(message)))
        self.status = status
        self.retry_after = retry_after

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotFound(ApiError):
    """404: the endpoint (or namespace) does not exist."""


class UnknownRevision(NotFound):
    """404 from the Hub's model info: the repository has no such branch, tag or commit."""


class Conflict(ApiError):
    """409: e.g. an endpoint with this name already exists."""


class QuotaExceeded(Conflict):
    """409 'Quota exceeded': the namespace has no accelerator quota left for this hardware."""


class BadRequest(ApiError):
    """400/422: the service rejected the request body."""


class AuthError(ApiError):
    """401/403: no valid token, or the token may not manage this namespace."""


class MalformedResponse(ApiError):
    """A successful answer whose body cannot be read (a required key missing, a wrong type)."""


class Transient(ApiError):
    """429, 5xx, timeouts and connection errors: safe to retry."""

    retryable = True
    attempts: int | None = None  # at most this many tries, below the retry policy's


class Refused(Transient):
    """The connection was refused: nothing listens there. Retried once, quickly (a server
    restarting), not for minutes: a wrong URL or a stopped emulator does not come back."""

    attempts = 2


class Unreachable(ApiError):
    """The host name does not resolve: retrying cannot help, the URL is wrong (or offline)."""


class ConfigurationError(ProvisionerError):
    """The adapter cannot be used as configured (e.g. offline mode, no token)."""

    def __init__(self, message: str) -> None:
        super().__init__(Diagnostic(None, message))


def classify(status: int, message: str, *, retry_after: float | None = None) -> ApiError:
    if status == 404:
        return NotFound(message, status=status)
    if status == 409 and "quota" in message.lower():
        return QuotaExceeded(message, status=status)
    if status == 409:
        return Conflict(message, status=status)
    if status in (400, 422):
        return BadRequest(message, status=status)
    if status in (401, 403):
        return AuthError(message, status=status)
    if status == 429 or status >= 500:
        return Transient(message, status=status, retry_after=retry_after)
    return ApiError(message, status=status)
