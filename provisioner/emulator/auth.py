"""Who is calling and what they may touch: tokens, users, orgs, namespaces, and `whoami-v2`.

Owns the 401/403 decisions: no or unknown token -> 401; a namespace the user neither is nor belongs
to -> 403; a read-only token on a mutating call -> 403. It must never put a token value in a
message, a log entry or a response.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from provisioner.emulator.config import EmulatorConfig, OrgConfig, UserConfig
from provisioner.emulator.wire import ApiError, Request


@dataclass(frozen=True)
class Caller:
    user: UserConfig
    role: str  # "read" | "write"

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def ref(self) -> dict[str, str]:
        """The `{"id", "name"}` pair used for `status.createdBy` / `updatedBy`."""
        return {"id": hub_id(self.user.name), "name": self.user.name}


def hub_id(name: str) -> str:
    # Hub ids are 24 hex digits (a MongoDB ObjectId); derived from the name so they are stable.
    return hashlib.sha1(f"hub:{name}".encode()).hexdigest()[:24]


def bearer_token(request: Request) -> str | None:
    header = request.header("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


class Directory:
    """Users and orgs from the config, indexed by token and namespace. Immutable."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._by_token = {t.value: (u, t.role) for u in config.users for t in u.tokens}
        self._users = {u.name: u for u in config.users}
        self._orgs: dict[str, OrgConfig] = {o.name: o for o in config.orgs}

    def identify(self, request: Request) -> Caller | None:
        token = bearer_token(request)
        found = self._by_token.get(token) if token is not None else None
        return Caller(found[0], found[1]) if found is not None else None

    def require(self, request: Request) -> Caller:
        caller = self.identify(request)
        if caller is None:
            if bearer_token(request) is None:
                raise ApiError(401, "Authorization header is missing or is not a Bearer token")
            raise ApiError(401, "Invalid credentials in Authorization header")
        return caller

    def can_access(self, caller: Caller, namespace: str) -> bool:
        return namespace == caller.user.name or (
            namespace in caller.user.orgs and namespace in self._orgs
        )

    def authorize(self, request: Request, namespace: str, *, write: bool) -> Caller:
        caller = self.require(request)
        if not self.can_access(caller, namespace):
            raise ApiError(
                403, f"User '{caller.name}' is not allowed to access namespace '{namespace}'"
            )
        if write and caller.role != "write":
            raise ApiError(
                403,
                "This token does not have the 'inference.endpoints.write' permission "
                f"on namespace '{namespace}'",
            )
        return caller

    def namespaces(self) -> list[str]:
        return [*self._users, *self._orgs]

    def whoami(self, caller: Caller) -> dict[str, object]:
        """The `GET /api/whoami-v2` body (field list from huggingface.js `who-am-i.ts`)."""
        user = caller.user
        return {
            "type": "user",
            "id": hub_id(user.name),
            "name": user.name,
            "fullname": user.fullname or user.name,
            "email": user.email,
            "emailVerified": user.email is not None,
            "isPro": False,
            "canPay": True,
            "avatarUrl": f"/avatars/{hub_id(user.name)}.svg",
            "periodEnd": None,
            "orgs": [
                {
                    "type": "org",
                    "id": hub_id(org),
                    "name": org,
                    "fullname": self._orgs[org].fullname or org,
                    "email": None,
                    "canPay": True,
                    "avatarUrl": f"/avatars/{hub_id(org)}.svg",
                    "periodEnd": None,
                }
                for org in user.orgs
                if org in self._orgs
            ],
            "auth": {
                "type": "access_token",
                "accessToken": {
                    "displayName": "emulator",
                    "role": caller.role,
                    "createdAt": "2025-01-01T00:00:00.000Z",
                },
            },
        }
