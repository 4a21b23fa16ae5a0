"""Every read is bounded: one request (however slowly its answer trickles in, headers or body),
one answer's size, one listing (pages, items, bytes) and one phase of the live read. Each limit
stops the read with a message that names it, instead of hanging until the CI job's timeout.

The hostile service is a `ListingProxy` in front of the emulator; the limits are set small, on
the `Connection`, so that each test stops within a few seconds. A read that was not cut off
would succeed (the proxy does finish its answers), and the test would fail."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from provisioner.hub.client import Connection, HubApi, Limits, resolve_connection
from provisioner.hub.errors import ApiError, ConfigurationError, MalformedResponse
from provisioner.hub.retry import Retrier
from tests.support.hostile import ListingProxy
from tests.support.hub import create


def _hub(url: str, **limits: Any) -> HubApi:
    connection = Connection(api_url=url, hub_url=url, token="hf_demo", limits=Limits(**limits))
    return HubApi(connection, Retrier())


@pytest.fixture
def proxy(emulator: Emulator, hub_for: Callable[..., HfApi]) -> Iterator[ListingProxy]:
    """A proxy whose `big` namespace lists copies of one real endpoint, `e-0`, `e-1`, ..."""
    create(hub_for(emulator), "template")
    request = urllib.request.Request(
        f"{emulator.url}/v2/endpoint/demo", headers={"authorization": "Bearer hf_demo"}
    )
    with urllib.request.urlopen(request) as answer:
        (item,) = json.loads(answer.read())["items"]
    hostile = ListingProxy(emulator.url)
    hostile.listings["big"] = [{**item, "name": f"e-{i}"} for i in range(300)]
    with hostile.running():
        yield hostile


@pytest.mark.parametrize("headers", [False, True], ids=["body", "headers"])
def test_an_answer_trickling_in_is_cut_off_at_the_request_deadline(
    proxy: ListingProxy, headers: bool
) -> None:
    # A byte every 20 ms never stalls long enough for the 60 s read timeout; one page of 100
    # endpoints would take more than half an hour.
    proxy.byte_delay, proxy.trickle_headers = 0.02, headers
    with pytest.raises(ApiError, match="no complete answer within the 1 s a request may take"):
        _hub(proxy.url, request_seconds=1).list_endpoints("big")


def test_a_phase_of_the_live_read_has_one_deadline_for_all_its_calls(
    proxy: ListingProxy,
) -> None:
    proxy.byte_delay = 0.02
    hub = _hub(proxy.url, phase_seconds=1)
    with pytest.raises(ApiError) as caught, hub.phase("the live read"):
        hub.list_endpoints("big")
    assert "no complete answer within the 1 s the live read may take" in str(caught.value)
    assert "PROVISIONER_READ_TIMEOUT sets it" in str(caught.value)


def test_a_listing_that_never_ends_stops_at_the_page_limit(proxy: ListingProxy) -> None:
    proxy.endless, proxy.page_size = True, 10
    with pytest.raises(ApiError, match="still sending pages after 40; stopped listing"):
        _hub(proxy.url, pages=40).list_endpoints("big")
    assert proxy.pages_served == 40


def test_a_listing_with_too_many_endpoints_stops(proxy: ListingProxy) -> None:
    with pytest.raises(ApiError, match="listed more than 150 endpoints in one namespace"):
        _hub(proxy.url, listed=150).list_endpoints("big")
    assert proxy.pages_served == 2


def test_an_answer_too_large_is_not_read_to_its_end(proxy: ListingProxy) -> None:
    # A page of 100 endpoints is about 100 KiB.
    with pytest.raises(ApiError, match="the answer is larger than 32 KiB; stopped reading"):
        _hub(proxy.url, answer_bytes=32 * 1024).list_endpoints("big")


def test_a_listing_too_large_in_all_stops(proxy: ListingProxy) -> None:
    with pytest.raises(ApiError, match=r"\(page 2\): the listing is larger than 150 KiB"):
        _hub(proxy.url, listing_bytes=150 * 1024).list_endpoints("big")


def test_within_the_limits_the_whole_listing_is_read(proxy: ListingProxy) -> None:
    listing = _hub(proxy.url).list_endpoints("big")
    assert len(listing.endpoints) == 300
    assert proxy.pages_served == 3


def test_an_answer_about_another_name_is_not_taken_for_the_one_asked(
    proxy: ListingProxy, hub_for: Callable[..., HfApi], emulator: Emulator
) -> None:
    create(hub_for(emulator), "other")
    proxy.rewrite["/v2/endpoint/demo/template"] = lambda body: {**body, "name": "other"}
    with pytest.raises(MalformedResponse, match="answered about 'other', not 'template'"):
        _hub(proxy.url).get_endpoint("demo", "template")


@pytest.mark.parametrize("value", ["soon", "0", "-5", "1e9"])
def test_a_read_timeout_that_is_not_a_number_of_seconds_is_a_configuration_error(
    value: str,
) -> None:
    environ = {"HF_TOKEN": "hf_x", "PROVISIONER_READ_TIMEOUT": value}
    with pytest.raises(ConfigurationError, match=r"PROVISIONER_READ_TIMEOUT=.*number of seconds"):
        resolve_connection("http://127.0.0.1:1", environ)


def test_the_read_timeout_sets_the_phase_deadline() -> None:
    environ = {"HF_TOKEN": "hf_x", "PROVISIONER_READ_TIMEOUT": "1200"}
    assert resolve_connection(None, environ).limits == Limits(phase_seconds=1200)
