"""Where the token may go: the API's and the Hub's origins, and https URLs under the service's
endpoints domain; nowhere else (another host or port, plain http elsewhere, a look-alike)."""

from __future__ import annotations

import pytest

from provisioner.hub.client import Connection, token_may_go_to

REAL = Connection()
EMULATOR = Connection(api_url="http://127.0.0.1:8790", hub_url="http://127.0.0.1:8790")


@pytest.mark.parametrize(
    ("connection", "url", "allowed"),
    [
        (REAL, "https://vksrvs8pc1xnifhq.us-east-1.aws.endpoints.huggingface.cloud", True),
        (REAL, "https://x.eu-west-1.aws.endpoints.huggingface.cloud/health", True),
        (REAL, "https://api.endpoints.huggingface.cloud/v2/endpoint/acme", True),
        (REAL, "https://huggingface.co/api/whoami-v2", True),
        (REAL, "http://x.us-east-1.aws.endpoints.huggingface.cloud", False),  # plain http
        (REAL, "https://endpoints.huggingface.cloud.evil.example/x", False),
        (REAL, "https://evilendpoints.huggingface.cloud/x", False),
        (REAL, "https://attacker.example/health", False),
        (REAL, "http://127.0.0.1:8790/endpoints/acme/x", False),
        (EMULATOR, "http://127.0.0.1:8790/endpoints/acme/x", True),
        (EMULATOR, "http://127.0.0.1:9999/endpoints/acme/x", False),  # another port
        (EMULATOR, "http://localhost:8790/endpoints/acme/x", False),  # another host name
        (EMULATOR, "https://x.us-east-1.aws.endpoints.huggingface.cloud", True),
    ],
)
def test_the_token_goes_only_to_trusted_origins(
    connection: Connection, url: str, allowed: bool
) -> None:
    assert token_may_go_to(url, connection) is allowed
