"""A tiny stand-in for the few GitHub REST routes the action calls (issue comments, issues,
labels), on 127.0.0.1 in a thread: it keeps what was posted, pages its lists as GitHub does
(`Link: <...>; rel="next"`), and records every request, so a test sees what a user would see on
the pull request or in the issues tab. It is not GitHub's API: only these routes, only JSON.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BOT = "github-actions[bot]"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str


@dataclass
class State:
    repository: str
    page_size: int = 2
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue -> comments
    issues: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)  # merged pull requests
    requests: list[Recorded] = field(default_factory=list)
    next_id: int = 1000


class FakeGitHub:
    def __init__(self, repository: str = "acme/specs", *, page_size: int = 2) -> None:
        self.state = State(repository=repository, page_size=page_size)
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    # -- what a test arranges and reads --------------------------------------------------------

    def merge(self, number: int, *, merge_commit_sha: str, head_sha: str) -> None:
        """Pull request `number` (whose last commit is `head_sha`) merged as `merge_commit_sha`."""
        self.state.pulls.append(
            {
                "number": number,
                "html_url": f"https://github.test/{self.state.repository}/pull/{number}",
                "merged_at": "2027-03-24T10:00:00Z",
                "merge_commit_sha": merge_commit_sha,
                "head": {"sha": head_sha},
            }
        )

    def add_comment(self, issue: int, body: str, login: str = BOT) -> dict[str, Any]:
        with self.lock:
            return self._new_comment(issue, body, login)

    def comments(self, issue: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.state.comments.get(issue, [])]

    def issues(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(i) for i in self.state.issues]

    def requests(self, method: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.state.requests if method in (None, r.method)]

    # -- the routes ------------------------------------------------------------------------------

    def _new_comment(self, issue: int, body: str, login: str) -> dict[str, Any]:
        self.state.next_id += 1
        number = self.state.next_id
        comment = {
            "id": number,
            "body": body,
            "user": {"login": login},
            "html_url": f"https://github.test/{self.state.repository}/issues/{issue}#c{number}",
        }
        self.state.comments.setdefault(issue, []).append(comment)
        return comment

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        repo = f"/repos/{self.state.repository}"
        if not path.startswith(repo + "/"):
            return 404, {"message": "Not Found"}
        route = path[len(repo) :]
        page = int(query.get("page", ["1"])[0])
        if (found := re.fullmatch(r"/commits/([0-9a-f]+)/pulls", route)) and method == "GET":
            sha = found[1]
            listed = [p for p in self.state.pulls if p["merge_commit_sha"] == sha]
            return "page", listed, page
        if found := re.fullmatch(r"/issues/(\d+)/comments", route):
            issue = int(found[1])
            if method == "GET":
                return "page", self.state.comments.get(issue, []), page
            if method == "POST":
                return 201, self._new_comment(issue, body["body"], BOT)
        if (found := re.fullmatch(r"/issues/comments/(\d+)", route)) and method == "PATCH":
            for comments in self.state.comments.values():
                for comment in comments:
                    if comment["id"] == int(found[1]):
                        comment["body"] = body["body"]
                        return 200, comment
            return 404, {"message": "Not Found"}
        if route == "/issues" and method == "GET":
            wanted = query.get("labels", [""])[0]
            state = query.get("state", ["open"])[0]
            listed = [
                i
                for i in self.state.issues
                if i["state"] == state and (not wanted or wanted in i["labels_names"])
            ]
            return "page", listed, page
        if route == "/issues" and method == "POST":
            missing = [name for name in body.get("labels", []) if name not in self.state.labels]
            if missing:  # GitHub would create them silently; the action must not rely on it
                return 422, {"message": f"labels {missing} do not exist"}
            self.state.next_id += 1
            number = self.state.next_id
            issue = {
                "number": number,
                "title": body["title"],
                "body": body["body"],
                "state": "open",
                "labels": [{"name": name} for name in body.get("labels", [])],
                "labels_names": list(body.get("labels", [])),
                "html_url": f"https://github.test/{self.state.repository}/issues/{number}",
            }
            self.state.issues.append(issue)
            return 201, issue
        if (found := re.fullmatch(r"/issues/(\d+)", route)) and method == "PATCH":
            for issue in self.state.issues:
                if issue["number"] == int(found[1]):
                    issue.update({k: v for k, v in body.items() if k in ("state", "state_reason")})
                    return 200, issue
            return 404, {"message": "Not Found"}
        if (found := re.fullmatch(r"/labels/(.+)", route)) and method == "GET":
            name = urllib.parse.unquote(found[1])
            if name in self.state.labels:
                return 200, {"name": name}
            return 404, {"message": "Not Found"}
        if route == "/labels" and method == "POST":
            self.state.labels.append(body["name"])
            return 201, {"name": body["name"]}
        return 404, {"message": f"no route {method} {route}"}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        split = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(split.query)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with self.fake.lock:
            record = Recorded(
                self.command, split.path, query, body, self.headers.get("Authorization", "")
            )
            self.fake.state.requests.append(record)
            answer = self.fake.handle(self.command, split.path, query, body)
            headers: dict[str, str] = {}
            if answer[0] == "page":
                items, page = answer[1], answer[2]
                size = self.fake.state.page_size
                status, data = 200, [dict(i) for i in items[(page - 1) * size : page * size]]
                if page * size < len(items):
                    query["page"] = [str(page + 1)]
                    following = urllib.parse.urlencode(query, doseq=True)
                    headers["Link"] = f'<{self.fake.url}{split.path}?{following}>; rel="next"'
            else:
                status, data = answer
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = _serve
