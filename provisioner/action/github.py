"""The few GitHub REST calls the action makes (issue comments, issues, labels), through urllib.

One choke point: every request carries the token in a header (never in a URL, never logged),
transient failures (5xx, 429, a dropped connection) are retried a few times honouring
`Retry-After`, list calls follow the `Link: rel="next"` pages, and any other failure becomes a
`GitHubError` whose message has the status and GitHub's own message, never the token.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from provisioner import __version__

_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_ATTEMPTS = 3


class GitHubError(Exception):
    """A REST call that failed; `status` is the HTTP status (0 when there was no answer)."""

    def __init__(self, message: str, *, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class GitHub:
    """The REST API of one repository (`owner/name`) at `api_url` (`$GITHUB_API_URL`)."""

    def __init__(
        self,
        api_url: str,
        repository: str,
        token: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self._api = api_url.rstrip("/")
        self._repo = repository
        self._token = token
        self._sleep = sleep
        self._timeout = timeout

    # -- the calls ---------------------------------------------------------------------------

    def pulls_of_commit(self, sha: str) -> Iterator[dict[str, Any]]:
        """The pull requests a commit belongs to (for a merge commit: the one merged)."""
        yield from self._pages(f"/repos/{self._repo}/commits/{sha}/pulls?per_page=100")

    def issue_comments(self, number: int) -> Iterator[dict[str, Any]]:
        yield from self._pages(f"/repos/{self._repo}/issues/{number}/comments?per_page=100")

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        return self._json("POST", f"/repos/{self._repo}/issues/{number}/comments", {"body": body})

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        path = f"/repos/{self._repo}/issues/comments/{comment_id}"
        return self._json("PATCH", path, {"body": body})

    def open_issues(self, label: str) -> Iterator[dict[str, Any]]:
        query = urllib.parse.urlencode({"state": "open", "labels": label, "per_page": 100})
        for item in self._pages(f"/repos/{self._repo}/issues?{query}"):
            if "pull_request" not in item:  # the issues list includes pull requests
                yield item

    def create_issue(self, title: str, body: str, labels: list[str]) -> dict[str, Any]:
        payload = {"title": title, "body": body, "labels": labels}
        return self._json("POST", f"/repos/{self._repo}/issues", payload)

    def close_issue(self, number: int) -> dict[str, Any]:
        payload = {"state": "closed", "state_reason": "completed"}
        return self._json("PATCH", f"/repos/{self._repo}/issues/{number}", payload)

    def ensure_label(self, name: str, *, color: str, description: str) -> None:
        try:
            self._json("GET", f"/repos/{self._repo}/labels/{urllib.parse.quote(name, safe='')}")
            return
        except GitHubError as error:
            if error.status != 404:
                raise
        payload = {"name": name, "color": color, "description": description}
        try:
            self._json("POST", f"/repos/{self._repo}/labels", payload)
        except GitHubError as error:
            if error.status != 422:  # made meanwhile by another run: fine
                raise

    # -- transport ---------------------------------------------------------------------------

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        url: str | None = self._api + path
        while url is not None:
            data, headers = self._request("GET", url, None)
            if not isinstance(data, list):
                raise GitHubError(f"GET {_path(url)}: expected a list, got {type(data).__name__}")
            yield from (item for item in data if isinstance(item, dict))
            found = _NEXT.search(headers.get("Link", ""))
            url = found.group(1) if found else None
            # The token goes only where it was meant to: a next page on another host is refused.
            if url is not None and not url.startswith(self._api + "/"):
                raise GitHubError(f"GET {_path(path)}: the next page is on another host ({url})")

    def _json(
        self, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        data = self._request(method, self._api + path, payload)[0]
        return data if isinstance(data, dict) else {}

    def _request(
        self, method: str, url: str, payload: dict[str, Any] | None
    ) -> tuple[Any, dict[str, str]]:
        body = None if payload is None else json.dumps(payload).encode()
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": f"hf-endpoints-provisioner-action/{__version__}",
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(1, _ATTEMPTS + 1):
            request = urllib.request.Request(url, data=body, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    raw = response.read()
                    return (json.loads(raw) if raw else None), dict(response.headers)
            except urllib.error.HTTPError as error:
                status, message = error.code, _message(error)
                retry_after = error.headers.get("Retry-After", "") if error.headers else ""
                transient = status >= 500 or status == 429
            except (urllib.error.URLError, OSError) as error:
                status, retry_after, transient = 0, "", True
                message = str(getattr(error, "reason", error))
            except ValueError:
                raise GitHubError(f"{method} {_path(url)}: the answer is not JSON") from None
            if not transient or attempt == _ATTEMPTS:
                raise GitHubError(
                    f"{method} {_path(url)} failed: "
                    + (f"HTTP {status}: {message}" if status else message),
                    status=status,
                )
            self._sleep(_delay(retry_after, attempt))
        raise AssertionError("unreachable")


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def _delay(retry_after: str, attempt: int) -> float:
    try:
        return min(max(float(retry_after), 0.0), 60.0)
    except ValueError:
        return float(2 ** (attempt - 1))


def _message(error: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        return error.reason if isinstance(error.reason, str) else "no message"
    message = data.get("message") if isinstance(data, dict) else None
    return str(message)[:300] if message else str(error.reason)
