"""A service that answers with hostile names, lying tags, redirects or foreign URLs: every name
from the API passes the spec's name rule before it is used, every mutating request addresses a
name read again and found this stack's, a redirect of a mutating request is never followed,
and the token goes only to the API's host and to https URLs under the service's domain.

Hostile listings come from the emulator's `corrupt_listing` fault (as a misbehaving service
would list them), redirects from its `http` fault with a `location`, and another host is a
`Sink` on its own port that records whether anything (and a token) reached it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioner.emulator import Emulator
from provisioner.plan import ownership
from provisioner.spec.schema import valid_name
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, unmanaged, write_spec
from tests.support.cli import Result
from tests.support.hostile import ListingProxy, Sink

Cli = Callable[..., Result]
OURS = ["provisioner-stack-hostile"]
HOSTILE = ["../demo/prod", "manual?x=1", "manual#frag", "a b", "ünïcode", "manual\n"]


def _stack(root: Path, *names: str, **fields: object) -> Path:
    specs = root / "endpoints"
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "_settings.yaml").write_text("stack: hostile\nnamespace: acme\n")
    for name in names:
        write_spec(specs, name, **fields)
    return specs


def _victims(api: HfApi) -> None:
    """demo/prod, another stack's; acme/manual, made by hand."""
    unmanaged(api, "prod", namespace="demo", tags=["provisioner-stack-other"])
    unmanaged(api, "manual")


def test_hostile_names_tagged_as_ours_are_never_addressed(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    _victims(hub_for(emulator))
    names = [f"h-{i}" for i in range(len(HOSTILE))]
    specs = _stack(tmp_path, *names)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    for name, listed_as in zip(names, HOSTILE, strict=True):
        (specs / f"{name}.yaml").unlink()  # a readable one would now be deleted
        emulator.add_fault(
            {
                "kind": "corrupt_listing",
                "namespace": "acme",
                "name": name,
                "set": {"name": listed_as},
            }
        )
    write_spec(specs, "keep")
    emulator.clear_requests()

    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert mutations(emulator) == [("POST", "/v2/endpoint/acme")]  # `keep`, nothing else
    for listed_as in HOSTILE:
        assert (
            f"warning: acme/{listed_as!r} (this stack's) is listed by the API but cannot be read "
            f"(the API lists it under the name {listed_as!r}, which is not a valid endpoint name"
        ) in applied.err, applied.err
    assert "prod" in live(emulator, "demo") and "manual" in live(emulator)


def test_a_name_listed_twice_is_never_addressed(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    _victims(hub_for(emulator))
    specs = _stack(tmp_path, "twin", "keep")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    (specs / "twin.yaml").unlink()
    # Ours, listed as `manual`: two items named manual, one tagged ours, one by hand.
    emulator.add_fault(
        {"kind": "corrupt_listing", "namespace": "acme", "name": "twin", "set": {"name": "manual"}}
    )
    emulator.clear_requests()
    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    assert mutations(emulator) == []
    assert "the API lists this name 2 times" in applied.err
    assert "manual" in live(emulator)


def test_ownership_is_read_again_on_the_name_a_delete_addresses(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    """The list claims acme/manual (made by hand) is this stack's: the plan deletes it, and
    the GET of exactly that name, just before the DELETE, finds it is not."""
    _victims(hub_for(emulator))
    specs = _stack(tmp_path, "keep")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    emulator.add_fault(
        {"kind": "corrupt_listing", "namespace": "acme", "name": "manual", "set": {"tags": OURS}}
    )
    emulator.clear_requests()
    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 1, applied.text
    assert mutations(emulator) == []
    assert (
        "✗ acme/manual: is not managed by provisioner: no plan may change it; nothing was sent"
    ) in applied.err
    assert "manual" in live(emulator)


def test_a_redirect_of_a_delete_is_not_followed(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path, "gone", "keep")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    (specs / "gone.yaml").unlink()
    with Sink().running() as sink:
        emulator.add_fault(
            {
                "kind": "http",
                "method": "DELETE",
                "path": "/v2/endpoint/acme/gone",
                "status": 307,
                "location": f"{sink.url}/v2/endpoint/acme/gone",
            }
        )
        applied = cli("apply", "--dir", str(specs), "--auto-approve")
        assert applied.code == 1, applied.text
        assert sink.seen == []
    assert "delete accepted" not in applied.text
    assert (
        f"the service answered 307, a redirect to {sink.url!r}, which was not followed"
    ) in applied.err, applied.err
    assert "gone" in live(emulator)


def test_a_status_url_on_another_host_gets_no_token(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    smoke = {"request": {"inputs": "hi"}, "expect": {"status": 200}}
    specs = _stack(tmp_path, "probe", smoke=smoke)
    with Sink().running() as sink:
        emulator.add_fault(
            {
                "kind": "corrupt_listing",
                "namespace": "acme",
                "name": "probe",
                "set": {"status.url": f"{sink.url}/elsewhere"},
            }
        )
        applied = cli("apply", "--dir", str(specs), "--auto-approve")
        tested = cli("smoke", "--dir", str(specs))
        assert sink.seen == []  # neither the health probe nor the smoke test went there
    assert applied.code == 1, applied.text
    refused = (
        f"refused: the service gives the endpoint's URL as {sink.url}, which is neither the "
        "API's host nor an https URL under *.endpoints.huggingface.cloud; nothing was sent"
    )
    assert f"health probe of acme/probe: {refused}" in applied.err, applied.err
    assert tested.code == 1, tested.text
    assert f"smoke test of acme/probe: {refused}" in tested.text, tested.text


# The property: whatever the list holds, apply addresses only validated, owned endpoints.
TRUE_NAMES = ["s-1", "manual", "other-1"]
LISTED_NAMES = [*TRUE_NAMES, *HOSTILE, "o-9", "S-1", "", 7, None]
TAGS = [[*OURS], ["provisioner-stack-other"], [], None]


@st.composite
def listing(draw: st.DrawFn, templates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items made from the endpoints really listed, with any name and tags, any number of
    times each."""
    items = []
    for _ in range(draw(st.integers(0, 7))):
        item = copy.deepcopy(draw(st.sampled_from(templates)))
        name, tags = draw(st.sampled_from(LISTED_NAMES)), draw(st.sampled_from(TAGS))
        item.pop("name") if name is None else item.update(name=name)
        item.pop("tags") if tags is None else item.update(tags=tags)
        items.append(item)
    return items


def test_whatever_the_listing_holds_only_owned_valid_endpoints_are_addressed(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    api = hub_for(emulator)
    specs = _stack(tmp_path, "s-1")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    unmanaged(api, "manual")
    unmanaged(api, "other-1", tags=["provisioner-stack-other"])
    truth = live(emulator)
    owners = {name: ownership.owner(item["tags"]) for name, item in truth.items()}
    templates = list(truth.values())

    with ListingProxy(emulator.url).running() as proxy:
        context = context_for(emulator, PROVISIONER_API_URL=proxy.url)

        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(items=listing(templates), page_size=st.integers(1, 4))
        def check(items: list[dict[str, Any]], page_size: int) -> None:
            proxy.listings["acme"], proxy.page_size = items, page_size
            emulator.clear_requests()
            cli(
                "apply", "--dir", str(specs), "--auto-approve", "--no-wait",
                "--allow-mass-delete", ctx=context,
            )  # fmt: skip
            for method, path in mutations(emulator):
                if (method, path) == ("POST", "/v2/endpoint/acme"):
                    continue  # a create: its name is the spec's, in the body
                name = path.removeprefix("/v2/endpoint/acme/").split("/")[0]
                assert path.startswith("/v2/endpoint/acme/"), (method, path)
                assert valid_name(name), (method, path)
                assert owners.get(name) == "hostile", (method, path, items)
            assert set(live(emulator)) >= set(truth)  # nothing of anyone's was deleted

        check()


def test_a_listing_that_trickles_in_stops_the_apply_at_the_read_deadline(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """A byte every 20 ms outlives any read timeout: the live read's own deadline
    (PROVISIONER_READ_TIMEOUT) stops it, says which limit, changes nothing, and leaves the
    state unlocked for the next run."""
    specs = _stack(tmp_path, "first")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "second")
    with ListingProxy(emulator.url).running() as proxy:
        proxy.listings["acme"] = list(live(emulator).values())
        proxy.byte_delay = 0.02
        slow = context_for(emulator, PROVISIONER_API_URL=proxy.url, PROVISIONER_READ_TIMEOUT="1")
        emulator.clear_requests()
        applied = cli("apply", "--dir", str(specs), "--auto-approve", ctx=slow)
    assert applied.code == 1, applied.text
    assert "cannot read the live endpoints: list endpoints of acme: no complete answer within " in (
        applied.err
    )
    assert "the 1 s the live read may take (PROVISIONER_READ_TIMEOUT sets it)" in applied.err
    assert "Traceback" not in applied.text
    assert mutations(emulator) == []
    # The lock was released: the next run (at the usual speed) goes ahead.
    again = cli("apply", "--dir", str(specs), "--auto-approve")
    assert again.code == 0, again.text
    assert "second" in live(emulator)
