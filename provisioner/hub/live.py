"""The live read: one list per namespace (every page of it) and one hardware call per namespace
that has specs, never one GET per endpoint. Listed items that cannot be read are kept, by name,
in `Fleet.unreadable`. Runs before the (pure) planner."""

from __future__ import annotations

from collections.abc import Iterable

from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError
from provisioner.hub.models import Fleet, Hardware, Listing, LiveEndpoint, Unreadable


def read_fleet(
    api: EndpointsApi, *, required: Iterable[str], optional: Iterable[str] = ()
) -> Fleet:
    """List endpoints of every namespace; hardware only for `required` ones (they have specs).

    A `required` namespace that cannot be read raises; an `optional` one (scanned only to find
    endpoints this stack still owns, e.g. an organisation without billing) is recorded in
    `Fleet.unlisted`, never skipped in silence.
    """
    required = sorted(set(required))
    optional = sorted(set(optional) - set(required))
    listings: dict[str, Listing] = {}
    hardware: dict[str, tuple[Hardware, ...]] = {}
    for namespace in required:
        listings[namespace] = api.list_endpoints(namespace)
        hardware[namespace] = tuple(api.list_hardware(namespace))
    unlisted: dict[str, str] = {}
    for namespace in optional:
        try:
            listings[namespace] = api.list_endpoints(namespace)
        except ApiError as error:
            unlisted[namespace] = error.message
    endpoints: dict[str, tuple[LiveEndpoint, ...]] = {
        namespace: listing.endpoints for namespace, listing in listings.items()
    }
    unreadable: dict[str, tuple[Unreadable, ...]] = {
        namespace: listing.unreadable
        for namespace, listing in listings.items()
        if listing.unreadable
    }
    return Fleet(endpoints=endpoints, hardware=hardware, unreadable=unreadable, unlisted=unlisted)
