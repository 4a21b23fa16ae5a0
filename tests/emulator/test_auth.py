"""Users, tokens and namespaces: 401 without a valid token, 403 outside one's namespaces."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from provisioner.emulator import (
    Emulator,
    EmulatorConfig,
    OrgConfig,
    TokenConfig,
    UserConfig,
)
from tests.support.hub import TO_RUNNING, create
from tests.support.raw_http import call

TWO_USERS = EmulatorConfig(
    speed=0,
    users=(
        UserConfig("demo", (TokenConfig("hf_demo"), TokenConfig("hf_demo_ro", "read")), ("acme",)),
        UserConfig("mallory", (TokenConfig("hf_mallory"),)),
    ),
    orgs=(OrgConfig("acme"),),
)


def test_whoami_has_the_hub_shape(hf_api: HfApi) -> None:
    me = hf_api.whoami()
    assert me["type"] == "user" and me["name"] == "demo"
    assert [o["name"] for o in me["orgs"]] == ["acme"]
    assert me["orgs"][0]["type"] == "org"
    assert me["auth"]["type"] == "access_token"
    assert me["auth"]["accessToken"]["role"] == "write"
    assert "hf_demo" not in str(me)


def test_namespace_defaults_to_the_user_through_whoami(hf_api: HfApi) -> None:
    create(hf_api, namespace=None)
    assert [e.namespace for e in hf_api.list_inference_endpoints()] == ["demo"]


def test_no_token_or_an_unknown_token_is_401(emulator: Emulator) -> None:
    for token in (None, "hf_wrong"):
        for url in (
            f"{emulator.url}/v2/endpoint/demo",
            f"{emulator.url}/api/whoami-v2",
            f"{emulator.url}/v2/provider/demo",
        ):
            reply = call("GET", url, token=token)
            assert reply.status == 401, (url, token)
            assert reply.json()["error"].startswith("Unauthorized: ")
            assert "hf_wrong" not in reply.text


def test_unknown_token_through_the_client(
    hub_for: Callable[..., HfApi], emulator: Emulator
) -> None:
    api = hub_for(emulator, token="hf_wrong")
    with pytest.raises(HfHubHTTPError) as err:
        api.list_inference_endpoints(namespace="demo")
    assert err.value.response.status_code == 401


def test_another_namespace_is_403(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    emu = make_emulator(TWO_USERS)
    demo, mallory = hub_for(emu), hub_for(emu, token="hf_mallory")
    create(demo)
    create(demo, "team", namespace="acme")
    for namespace in ("demo", "acme", "nobody"):
        with pytest.raises(HfHubHTTPError) as err:
            mallory.list_inference_endpoints(namespace=namespace)
        assert err.value.response.status_code == 403
        assert f"not allowed to access namespace '{namespace}'" in str(err.value)
    with pytest.raises(HfHubHTTPError) as err:
        mallory.get_inference_endpoint("ep", namespace="demo")
    assert err.value.response.status_code == 403
    create(mallory, "mine", namespace="mallory")
    assert [e.name for e in mallory.list_inference_endpoints(namespace="mallory")] == ["mine"]


def test_read_only_token_can_read_but_not_write(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    emu = make_emulator(TWO_USERS)
    create(hub_for(emu))
    ro = hub_for(emu, token="hf_demo_ro")
    assert [e.name for e in ro.list_inference_endpoints(namespace="demo")] == ["ep"]
    with pytest.raises(HfHubHTTPError) as err:
        ro.pause_inference_endpoint("ep", namespace="demo")
    assert err.value.response.status_code == 403
    assert "inference.endpoints.write" in str(err.value)
    with pytest.raises(HfHubHTTPError):
        create(ro, "other")


def test_agent_harnesses_needs_no_auth(emulator: Emulator) -> None:
    reply = call("GET", f"{emulator.url}/api/agent-harnesses", token=None)
    assert reply.status == 200
    assert reply.json() == {"standardEnvVars": [], "harnesses": {}}


@pytest.mark.parametrize(
    ("endpoint_type", "token", "status"),
    [
        ("public", None, 200),
        ("authenticated", None, 401),
        ("authenticated", "hf_wrong", 401),
        ("authenticated", "hf_mallory", 403),
        ("authenticated", "hf_demo", 200),
        ("authenticated", "hf_demo_ro", 200),
        ("private", "hf_demo", 403),
    ],
)
def test_endpoint_url_access_follows_its_type(
    make_emulator: Callable[..., Emulator],
    hub_for: Callable[..., HfApi],
    endpoint_type: str,
    token: str | None,
    status: int,
) -> None:
    emu = make_emulator(TWO_USERS)
    ep = create(hub_for(emu), type=endpoint_type)
    emu.advance(TO_RUNNING)
    ep.fetch()
    assert ep.url is not None
    assert call("POST", ep.url, {"inputs": "hello"}, token=token).status == status
    assert call("GET", f"{ep.url}/health", token=token).status == status
