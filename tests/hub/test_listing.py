"""The hub's own list read: every page, each item on its own, and no endless loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from provisioner.hub.client import Connection, HubApi, follow_pages
from provisioner.hub.errors import ApiError
from provisioner.hub.normalise import ListingReader
from provisioner.hub.retry import Retrier
from tests.support.hub import create


def _hub(emu: Emulator) -> HubApi:
    return HubApi(Connection(api_url=emu.url, hub_url=emu.url, token="hf_demo"), Retrier())


def test_every_page_is_read(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    emu = make_emulator(list_page_size=2)
    api = hub_for(emu)
    for i in range(7):
        create(api, f"ep-{i}")
    listing = _hub(emu).list_endpoints("demo")
    assert sorted(e.name for e in listing.endpoints) == [f"ep-{i}" for i in range(7)]
    assert listing.unreadable == ()
    queries = [r["query"] for r in emu.requests() if r["path"] == "/v2/endpoint/demo"]
    assert len([q for q in queries if q.startswith("cursor=")]) == 3


@pytest.mark.parametrize(
    ("patch", "problem"),
    [
        ({"remove": ["status"]}, "status is missing"),
        ({"set": {"model": "gpt2"}}, "model is a string, not an object"),
        ({"set": {"status.state": None}}, "status.state is missing"),
        ({"set": {"compute.scaling.minReplica": "many"}}, "ValueError"),
    ],
)
def test_an_item_that_cannot_be_read_is_named_and_the_others_are_read(
    emulator: Emulator, hub_for: Callable[..., HfApi], patch: dict[str, Any], problem: str
) -> None:
    api = hub_for(emulator)
    for name in ("alpha", "bravo", "charlie"):
        create(api, name, tags=["team-x"])
    emulator.add_fault({"kind": "corrupt_listing", "namespace": "demo", "name": "bravo", **patch})
    listing = _hub(emulator).list_endpoints("demo")
    assert sorted(e.name for e in listing.endpoints) == ["alpha", "charlie"]
    (bad,) = listing.unreadable
    assert (bad.address, bad.tags) == ("demo/bravo", ("team-x",))
    assert problem in bad.problem


def test_a_repeated_cursor_stops_the_listing_with_an_error() -> None:
    pages = {None: {"items": [1], "nextCursor": "a"}, "a": {"items": [2], "nextCursor": "a"}}
    with pytest.raises(ApiError, match="list x \\(page 2\\): the service sent a nextCursor it"):
        list(follow_pages("list x", lambda _what, cursor: pages[cursor]))


@pytest.mark.parametrize("body", [[], {"items": {}}, {"items": [], "nextCursor": 3}])
def test_a_list_response_of_the_wrong_shape_is_an_api_error(body: Any) -> None:
    with pytest.raises(ApiError, match="list x: the response"):
        list(follow_pages("list x", lambda _what, _cursor: body))


def test_items_that_are_not_endpoints_are_each_named_by_what_they_are() -> None:
    """What `plan` prints for a listing it cannot read whole: by name when the name is usable,
    quoted when it is not (never put in a request), by position when there is none."""
    good = {"name": "ok", "type": "public", "model": {}, "compute": {}, "status": {}}
    reader = ListingReader("demo")
    reader.add([None, 42, {"name": "", "tags": ["t"]}, {**good, "status": "up"}])
    reader.add([{"name": "../victim", "tags": "x"}, {"tags": ["b", "a", "b"]}])
    listing = reader.listing()
    assert listing.endpoints == ()
    found = [(u.address, u.name, u.listed_as, u.tags, u.problem) for u in listing.unreadable]
    assert found == [
        ("demo/(item 1 of the list, no name)", None, None, None, "expected an object, got null"),
        (
            "demo/(item 2 of the list, no name)",
            None,
            None,
            None,
            "expected an object, got a number",
        ),
        ("demo/(item 3 of the list, no name)", None, None, ("t",), "type is missing"),
        ("demo/ok", "ok", None, None, "model.repository is missing"),
        ("demo/'../victim'", None, "'../victim'", None, "type is missing"),
        ("demo/(item 6 of the list, no name)", None, None, ("a", "b"), "name is missing"),
    ]
