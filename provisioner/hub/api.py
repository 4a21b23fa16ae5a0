"""The interface the rest of provisioner uses to talk to the Inference Endpoints API.

Importing it costs nothing (no `huggingface_hub`); `provisioner.hub.client.HubApi` implements it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from provisioner.hub.models import (
    Answer,
    Config,
    Hardware,
    Identity,
    Listing,
    LiveEndpoint,
    Secrets,
)


class EndpointsApi(Protocol):
    """What provisioner needs from the Inference Endpoints API."""

    def phase(self, name: str) -> AbstractContextManager[None]:
        """A phase of the run (the live read): every call inside it, from any thread, must be
        done within one deadline, or fails saying which."""
        ...

    def identity(self) -> Identity: ...
    def list_endpoints(self, namespace: str) -> Listing: ...
    def get_endpoint(self, namespace: str, name: str) -> LiveEndpoint: ...
    def list_hardware(self, namespace: str) -> list[Hardware]: ...
    def create_endpoint(
        self, namespace: str, name: str, config: Config, secrets: Secrets
    ) -> LiveEndpoint: ...
    def update_endpoint(
        self,
        namespace: str,
        name: str,
        config: Config,
        secrets: Secrets | None,
        *,
        fields: Collection[str],
    ) -> LiveEndpoint: ...
    def pause(self, namespace: str, name: str) -> LiveEndpoint: ...
    def resume(self, namespace: str, name: str) -> LiveEndpoint: ...
    def delete_endpoint(self, namespace: str, name: str) -> None: ...
    def endpoint_logs(
        self,
        namespace: str,
        name: str,
        *,
        tail: int | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[str]:
        """The endpoint's replica log lines, oldest first: at most `tail` of them, written
        from `since` to `until` (Unix seconds, both included). Text from outside: scrub it."""
        ...

    def health(self, endpoint: LiveEndpoint) -> int: ...
    def model_commit(self, repository: str, revision: str | None) -> str: ...
    def post_to_endpoint(
        self,
        endpoint: LiveEndpoint,
        body: Mapping[str, Any],
        *,
        scale_up_timeout: float,
        purpose: str = "smoke test",
    ) -> Answer: ...
