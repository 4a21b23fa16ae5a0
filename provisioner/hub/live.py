"""The live read: one list per namespace (every page of it) and one hardware call per namespace
that has specs, never one GET per endpoint; and one model info call per distinct (repository,
revision) the plan needs as a commit. Listed items that cannot be read are kept, by name, in
`Fleet.unreadable`. Runs before the (pure) planner."""

from __future__ import annotations

from collections.abc import Iterable

from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError, AuthError, NotFound, UnknownRevision
from provisioner.hub.models import (
    Commit,
    Commits,
    Fleet,
    Hardware,
    Listing,
    LiveEndpoint,
    Unreadable,
)


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


def resolve_commits(api: EndpointsApi, wanted: Iterable[tuple[str, str | None]]) -> Commits:
    """The commit of each (repository, revision), once each. A repository the token cannot read
    (private, gated, absent: 401/403/404) or a revision it lacks is recorded as such for the
    planner to report at the spec that names it; any other failure raises."""
    commits: dict[tuple[str, str | None], Commit] = {}
    for repository, revision in sorted(set(wanted), key=lambda k: (k[0], k[1] or "")):
        try:
            sha = api.model_commit(repository, revision)
        except UnknownRevision as error:
            commits[(repository, revision)] = Commit(problem=error.message, unknown_revision=True)
        except (AuthError, NotFound) as error:
            commits[(repository, revision)] = Commit(problem=error.message)
        else:
            commits[(repository, revision)] = Commit(sha=sha)
    return commits
