"""The live read: one list per namespace (every page of it) and one hardware call per namespace
that has specs, never one GET per endpoint; and one model info call per distinct (repository,
revision) the plan needs as a commit. Listed items that cannot be read are kept, by name, in
`Fleet.unreadable`. Runs before the (pure) planner."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import TypeVar, cast

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

K = TypeVar("K")
T = TypeVar("T")
# Calls of the live read in flight at once: the namespaces' lists and hardware, the model infos.
# Each is one round trip that does not depend on the others; 8 keeps a 5-namespace read at one
# round trip without looking like a burst to the service.
READ_PARALLELISM = 8


def concurrently(
    calls: dict[K, Callable[[], T]], *, limit: int = READ_PARALLELISM
) -> dict[K, Future[T]]:
    """Run every call on a small pool and wait for all; the caller reads `.result()` (which
    re-raises) in its own order, so errors surface as they would one by one."""
    if not calls:
        return {}
    if len(calls) == 1:  # no thread for a single call
        ((key, call),) = calls.items()
        future: Future[T] = Future()
        try:
            future.set_result(call())
        except Exception as error:
            future.set_exception(error)
        return {key: future}
    with ThreadPoolExecutor(max_workers=min(limit, len(calls))) as pool:
        return {key: pool.submit(call) for key, call in calls.items()}


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
    calls: dict[tuple[str, str], Callable[[], Listing | tuple[Hardware, ...]]] = {}
    for namespace in [*required, *optional]:
        calls[("list", namespace)] = partial(api.list_endpoints, namespace)
    for namespace in required:
        calls[("hardware", namespace)] = partial(_hardware, api, namespace)
    done = concurrently(calls)
    listings: dict[str, Listing] = {}
    hardware: dict[str, tuple[Hardware, ...]] = {}
    for namespace in required:
        listings[namespace] = cast(Listing, done[("list", namespace)].result())
        hardware[namespace] = cast(tuple[Hardware, ...], done[("hardware", namespace)].result())
    unlisted: dict[str, str] = {}
    for namespace in optional:
        try:
            listings[namespace] = cast(Listing, done[("list", namespace)].result())
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


def _hardware(api: EndpointsApi, namespace: str) -> tuple[Hardware, ...]:
    return tuple(api.list_hardware(namespace))


def resolve_commits(api: EndpointsApi, wanted: Iterable[tuple[str, str | None]]) -> Commits:
    """The commit of each (repository, revision), once each. A repository the token cannot read
    (private, gated, absent: 401/403/404) or a revision it lacks is recorded as such for the
    planner to report at the spec that names it; any other failure raises."""
    commits: dict[tuple[str, str | None], Commit] = {}
    ordered = sorted(set(wanted), key=lambda k: (k[0], k[1] or ""))
    done = concurrently({key: partial(api.model_commit, *key) for key in ordered})
    for repository, revision in ordered:
        try:
            sha = done[(repository, revision)].result()
        except UnknownRevision as error:
            commits[(repository, revision)] = Commit(problem=error.message, unknown_revision=True)
        except (AuthError, NotFound) as error:
            commits[(repository, revision)] = Commit(problem=error.message)
        else:
            commits[(repository, revision)] = Commit(sha=sha)
    return commits
