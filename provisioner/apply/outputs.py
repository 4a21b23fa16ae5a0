"""What applications need of the stack's endpoints (`provisioner output`, the end of `apply`):
each endpoint's URL under the variable name its spec asks for, its state, and, when there is no
URL to give, why (reasons are data: `Absence`; the renderers own the words).

Read from the live endpoints, one list per namespace, never a GET each. Nothing secret is in an
output: a URL, a state, names. Nothing here prints or reads the environment.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from provisioner.apply.results import Outcome
from provisioner.apply.smoke_tests import named_specs
from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError
from provisioner.hub.live import read_fleet
from provisioner.hub.models import EndpointState, LiveEndpoint, Unreadable
from provisioner.plan.model import Action
from provisioner.spec.diagnostics import ProvisionerError, display_path
from provisioner.spec.model import EndpointSpec
from provisioner.spec.outputs import clashes, url_variable
from provisioner.spec.scrub import Scrubber


class Absence(enum.StrEnum):
    """Why an output has no URL."""

    NOT_CREATED = "not-created"
    PAUSED = "paused"
    # Reachable only through AWS PrivateLink: the URL is no use to an application elsewhere.
    PRIVATE = "private"
    NOT_RUNNING = "not-running"
    FAILED = "failed"
    UNREADABLE = "unreadable"
    # The service lists a URL that is not a plain http(s) URL, or that holds a secret value.
    UNUSABLE = "unusable"


@dataclass(frozen=True)
class EndpointOutput:
    namespace: str
    name: str
    variable: str
    url: str | None = None
    # The live state (None: no such endpoint); `absent` says why `url` is None.
    state: str | None = None
    absent: Absence | None = None
    # The spec file, as diagnostics name it.
    spec: str = ""

    @property
    def address(self) -> str:
        return f"{self.namespace}/{self.name}"


_FAILED = frozenset({EndpointState.FAILED, EndpointState.UPDATE_FAILED})


def endpoint_output(
    spec: EndpointSpec,
    endpoint: LiveEndpoint | None,
    *,
    unreadable: bool = False,
    scrubber: Scrubber | None = None,
) -> EndpointOutput:
    """The output of `spec` (its namespace filled in) as `endpoint` is now. A URL that holds
    what `scrubber` blanks, or is not a plain http(s) URL, is not given (`UNUSABLE`)."""
    scrubber = scrubber or Scrubber()
    base = EndpointOutput(
        spec.namespace or "",
        spec.name,
        url_variable(spec),
        spec=str(display_path(spec.source.file)),
    )
    if endpoint is None:
        return replace(base, absent=Absence.UNREADABLE if unreadable else Absence.NOT_CREATED)
    state = endpoint.state
    absent: Absence | None = None
    if endpoint.config.type == "private":
        absent = Absence.PRIVATE
    elif state is EndpointState.PAUSED:
        absent = Absence.PAUSED
    elif state in _FAILED:
        absent = Absence.FAILED
    elif endpoint.url is None:
        absent = Absence.NOT_RUNNING
    elif not _usable(endpoint.url, scrubber):
        absent = Absence.UNUSABLE
    url = None if absent is not None else endpoint.url
    return replace(base, url=url, state=state.value, absent=absent)


# What a URL the service lists must look like to be printed: http(s), printable ASCII without
# spaces, quotes, backslashes or '@' (no userinfo). It goes unquoted into dotenv and GitHub
# output files, where a newline or a quote would start another variable.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#\[\]!$&()*+,;=%-]+")


def _usable(url: str, scrubber: Scrubber) -> bool:
    """A plain URL that holds nothing the scrubber would blank (a secret value, a token)."""
    return _PLAIN_URL.fullmatch(url) is not None and scrubber.outside(url) == url


def read_endpoints(
    api: EndpointsApi, namespaces: Iterable[str]
) -> tuple[dict[str, LiveEndpoint], set[str]]:
    """The endpoints of `namespaces` by address (one list each, every page), and the addresses
    listed but unreadable. A namespace that cannot be listed stops the run, saying which."""
    wanted = sorted(set(namespaces))
    try:
        with api.phase("the live read"):
            fleet = read_fleet(api, required=(), optional=wanted)
    except ApiError as error:
        raise ProvisionerError.because(f"cannot read the live endpoints: {error}") from error
    if fleet.unlisted:
        namespace, why = min(fleet.unlisted.items())
        raise ProvisionerError.because(
            f"cannot list the endpoints of namespace {namespace!r}: {why}"
        )
    found = {e.address: e for group in fleet.endpoints.values() for e in group}
    unreadable = {_address(u) for group in fleet.unreadable.values() for u in group}
    return found, unreadable


def _address(item: Unreadable) -> str:
    return f"{item.namespace}/{item.name}"


def stack_outputs(
    specs: Sequence[EndpointSpec],
    api: EndpointsApi,
    names: Sequence[str] = (),
    *,
    scrubber: Scrubber | None = None,
) -> list[EndpointOutput]:
    """The outputs of the specs `names` address (a name or NAMESPACE/NAME, globs allowed;
    none: every spec), in the stack's order. `specs` have their namespaces filled in. Two of
    them given one variable name is an error at their specs (an env file would keep one)."""
    chosen = named_specs(specs, names, done="nothing was read") if names else list(specs)
    found = clashes(chosen)
    if found:
        raise ProvisionerError(
            *found,
            note="Each variable of one output must name one endpoint's URL; nothing was read.",
        )
    live, unreadable = read_endpoints(api, {s.namespace or "" for s in chosen})
    outputs = []
    for spec in chosen:
        address = f"{spec.namespace}/{spec.name}"
        endpoint = live.get(address)
        outputs.append(
            endpoint_output(spec, endpoint, unreadable=address in unreadable, scrubber=scrubber)
        )
    return outputs


@dataclass(frozen=True)
class Moved:
    """An output an apply changed: a URL it gave a new endpoint, or moved (a replacement)."""

    output: EndpointOutput
    before: str | None


def changed_outputs(
    before: Mapping[str, str | None], after: Sequence[EndpointOutput]
) -> list[Moved]:
    """The outputs whose URL is not what it was before the apply (`before`: address -> URL),
    in the order of `after`; an endpoint that has no URL now is left out unless it had one."""
    return [
        Moved(output, before.get(output.address))
        for output in after
        if output.url != before.get(output.address)
        and (output.url is not None or before.get(output.address) is not None)
    ]


# The changes after which an endpoint's URL may not be what it was.
URL_CHANGING = frozenset({Action.CREATE, Action.REPLACE, Action.RESUME, Action.PAUSE})


def outputs_after_apply(
    api: EndpointsApi,
    specs: Sequence[EndpointSpec],
    outcomes: Sequence[Outcome],
    before: Mapping[str, str | None],
    *,
    scrubber: Scrubber | None = None,
) -> list[Moved]:
    """What an apply changed of the outputs: the URLs of the endpoints it created, replaced,
    resumed or paused, read again (one list per namespace) and held against `before`. Nothing
    is read when it made no such change."""
    done = {
        o.change.address
        for o in outcomes
        if (o.ok or o.accepted) and not o.refused and o.change.action in URL_CHANGING
    }
    chosen = [s for s in specs if f"{s.namespace}/{s.name}" in done]
    if not chosen:
        return []
    live, unreadable = read_endpoints(api, {s.namespace or "" for s in chosen})
    after = [
        endpoint_output(
            s,
            live.get(f"{s.namespace}/{s.name}"),
            unreadable=f"{s.namespace}/{s.name}" in unreadable,
            scrubber=scrubber,
        )
        for s in chosen
    ]
    return changed_outputs(before, after)


def urls_before(
    specs: Sequence[EndpointSpec], endpoints: Mapping[tuple[str, str], LiveEndpoint]
) -> dict[str, str | None]:
    """Each spec's URL as its output gave it in the live read the plan was made from
    (`Fleet.index()`), by address: what `outputs_after_apply` compares with."""
    return {
        f"{s.namespace}/{s.name}": endpoint_output(
            s, endpoints.get((s.namespace or "", s.name))
        ).url
        for s in specs
    }
