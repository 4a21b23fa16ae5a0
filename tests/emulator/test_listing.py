"""The list route: one page with everything by default (what huggingface_hub reads), pages of
`list_page_size` or `?limit=` with an opaque `nextCursor`, and the `corrupt_listing` fault that
makes one listed item unreadable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.support.hub import create
from tests.support.raw_http import call

NAMES = ["ep-e", "ep-a", "ep-g", "ep-c", "ep-b", "ep-f", "ep-d"]


def _fill(emu: Emulator, hub_for: Callable[..., HfApi]) -> HfApi:
    api = hub_for(emu)
    for name in NAMES:
        create(api, name)
    return api


def _pages(emu: Emulator, query: str = "") -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = "&".join(p for p in (query, cursor and f"cursor={cursor}") if p)
        reply = call("GET", f"{emu.url}/v2/endpoint/demo" + (f"?{params}" if params else ""))
        assert reply.status == 200, reply.text
        pages.append(reply.json())
        cursor = pages[-1].get("nextCursor")
        if cursor is None:
            return pages


def test_without_a_page_size_one_page_has_everything_and_the_client_sees_all(
    emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    api = _fill(emulator, hub_for)
    (page,) = _pages(emulator)
    assert "nextCursor" not in page
    assert len(page["items"]) == 7
    listed = api.list_inference_endpoints(namespace="demo")
    assert sorted(e.name for e in listed) == sorted(NAMES)


def test_limit_pages_by_name_with_an_opaque_cursor(
    emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    _fill(emulator, hub_for)
    pages = _pages(emulator, "limit=2")
    assert [len(p["items"]) for p in pages] == [2, 2, 2, 1]
    assert [i["name"] for p in pages for i in p["items"]] == sorted(NAMES)
    assert pages[-1]["nextCursor"] is None
    assert all("ep-" not in p["nextCursor"] for p in pages[:-1])  # opaque


def test_a_configured_page_size_pages_every_list(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    emu = make_emulator(list_page_size=3)
    api = _fill(emu, hub_for)
    pages = _pages(emu)
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    # huggingface_hub reads only `items`: with paging on, it sees the first page only.
    assert len(api.list_inference_endpoints(namespace="demo")) == 3


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "cursor=%21%21", "cursor=YWJj"])
def test_bad_limit_or_cursor_is_400(emulator: Emulator, query: str) -> None:
    reply = call("GET", f"{emulator.url}/v2/endpoint/demo?{query}")
    assert reply.status == 400, reply.text


def test_corrupt_listing_breaks_one_item_in_lists_only_until_cleared(
    emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    _fill(emulator, hub_for)
    emulator.add_fault(
        {
            "kind": "corrupt_listing",
            "namespace": "demo",
            "name": "ep-c",
            "remove": ["status", "model.framework"],
            "set": {"compute.scaling": "oops"},
        }
    )
    items = {i["name"]: i for i in _pages(emulator, "limit=3")[0]["items"]}
    assert "status" not in items["ep-c"] and "framework" not in items["ep-c"]["model"]
    assert items["ep-c"]["compute"]["scaling"] == "oops"
    assert items["ep-b"]["status"]["state"]
    assert call("GET", f"{emulator.url}/v2/endpoint/demo/ep-c").json()["status"]["state"]
    emulator.clear_faults()
    assert all("status" in i for i in _pages(emulator)[0]["items"])


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "corrupt_listing", "namespace": "demo", "name": "x"},
        {"kind": "corrupt_listing", "namespace": "demo", "name": "x", "remove": "status"},
        {"kind": "corrupt_listing", "namespace": "demo", "name": "x", "set": []},
    ],
)
def test_malformed_corrupt_listing_fault_is_refused(emulator: Emulator, fault: Any) -> None:
    reply = call("POST", f"{emulator.url}/admin/faults", fault, token=None)
    assert reply.status == 400, reply.text
