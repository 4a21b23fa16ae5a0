"""Transport-neutral request/response values and the error type every handler raises.

Owns the two error body styles of the real service: JSON `{"error": "<Reason>: <detail>"}` for
handler errors, and `text/plain` for body-deserialisation failures. It must not know about HTTP
sockets (that is `server.py`) nor about endpoints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    host: str | None = None
    # The client's IP address (None: a request made in process, never over a socket).
    peer: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def json_response(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, json.dumps(payload).encode(), "application/json", headers)


def text_response(status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, text.encode(), "text/plain; charset=utf-8", headers)


class ApiError(Exception):
    """An error answer. `plain=True`: the message as text/plain, as axum's JSON extractor does."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        plain: bool = False,
        prefix: bool = True,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.status = status
        reason = REASONS.get(status, "Error")
        # Handler errors read "<Reason>: <detail>" (lighteval matches "Conflict: Quota exceeded" and
        # "Bad Request: Compute instance not available yet" inside the client's error text).
        self.message = f"{reason}: {message}" if prefix and not plain else message
        self.plain = plain
        self.headers = headers
        super().__init__(self.message)

    def response(self) -> Response:
        if self.plain:
            return text_response(self.status, self.message, self.headers)
        return json_response(self.status, {"error": self.message}, self.headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def validation_failed(path: str, message: str) -> ApiError:
    # `400 VALIDATION_FAILED: model.image.vLLM: missing field `url`` (huggingface_hub #4661).
    return ApiError(400, f"VALIDATION_FAILED: {path}: {message}", prefix=False)


def not_found(name: str) -> ApiError:
    # The only recorded body: `{"error": "Endpoint 'development' not found"}`, no reason prefix.
    return ApiError(404, f"Endpoint '{name}' not found", prefix=False)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)
