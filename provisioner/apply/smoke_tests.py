"""Smoke tests as workflows: after apply (`smoke_after_apply`) and on demand (`smoke_stack`).

After apply, the endpoints it created, updated, replaced or resumed are tested once they
settled running (or scaled to zero), and each result is folded into that change's outcome.

A failed smoke test makes its outcome not ok (apply exits 1) but accepted: the change was made
and stays made; the other endpoints' changes are untouched. An endpoint whose change did not
settle is not tested (its outcome already failed). Clock and sleep are injected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from functools import partial

from provisioner.apply.results import Outcome
from provisioner.apply.waiter import RUNNING, target
from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError
from provisioner.hub.live import concurrently
from provisioner.hub.models import Identity, LiveEndpoint, Secrets
from provisioner.smoke.runner import SmokeResult, Verdict, hide, run_smoke
from provisioner.spec.diagnostics import Diagnostic, ProvisionerError, clip
from provisioner.spec.model import EndpointSpec
from provisioner.spec.scrub import Scrubber
from provisioner.spec.secrets import looks_secret
from provisioner.spec.smoke import SmokeSpec
from provisioner.spec.stack import Stack

SMOKE_PARALLELISM = 8
NO_WAIT = "apply did not wait for the endpoint to be ready (--no-wait); run `provisioner smoke`"


def tested(outcome: Outcome, tests: Mapping[str, SmokeSpec]) -> bool:
    """Whether apply smoke-tests this change once it settles (it leaves its endpoint running)."""
    return outcome.change.address in tests and target(outcome.change) == RUNNING


def smoke_after_apply(
    api: EndpointsApi,
    outcomes: Sequence[Outcome],
    tests: Mapping[str, SmokeSpec],
    *,
    secrets: Mapping[str, Secrets],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    waited: bool = True,
    scrubber: Scrubber | None = None,
) -> list[Outcome]:
    """`outcomes`, each tested change's with its smoke result (`tests`: address -> test). An
    answer is scrubbed of the values sent, secret-looking env values and what `scrubber` knows
    (the environment's secrets, previous values by their fingerprints)."""
    hidden = [value for s in secrets.values() for value in s.values.values()]
    # Env values that look secret (validate warns about them) are blanked too.
    hidden += [
        value
        for o in outcomes
        if o.change.desired is not None
        for name, value in o.change.desired.env.items()
        if looks_secret(name, value)
    ]
    chosen = {o.change.address: o for o in outcomes if o.ok and tested(o, tests)}
    runs = _run_all(
        api,
        [(o.change.namespace, o.change.name, tests[a]) for a, o in chosen.items()]
        if waited
        else [],
        (scrubber or Scrubber()).with_values(hidden),
        clock=clock,
        sleep=sleep,
    )
    results = []
    for outcome in outcomes:
        if outcome.change.address not in chosen:
            results.append(outcome)
            continue
        address = outcome.change.address
        if not waited:
            result = SmokeResult(address, Verdict.NOT_RUN, NO_WAIT)
        else:
            result = runs[address]
        if result.verdict is Verdict.FAILED:
            error = f"smoke test failed: {result.detail}"
            results.append(replace(outcome, ok=False, error=error, accepted=True, smoke=result))
        else:
            results.append(replace(outcome, smoke=result))
    return results


def _run_all(
    api: EndpointsApi,
    tests: Sequence[tuple[str, str, SmokeSpec]],
    hidden: Scrubber,
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> dict[str, SmokeResult]:
    """Each (namespace, name, test), by address: the endpoints read with one list per namespace
    (never a GET each), then the tests run at once, 8 in flight (one endpoint's cold start must
    not hold up the others)."""
    namespaces = sorted({namespace for namespace, _, _ in tests})
    lists = concurrently({ns: partial(api.list_endpoints, ns) for ns in namespaces})
    found: dict[str, LiveEndpoint] = {}
    unread: dict[str, str] = {}
    for namespace in namespaces:
        try:
            found.update({e.address: e for e in lists[namespace].result().endpoints})
        except ApiError as error:
            unread[namespace] = hide(str(error), hidden)
    results: dict[str, SmokeResult] = {}
    calls: dict[str, Callable[[], SmokeResult]] = {}
    for namespace, name, test in tests:
        address = f"{namespace}/{name}"
        endpoint = found.get(address)
        if namespace in unread:
            results[address] = SmokeResult(address, Verdict.FAILED, unread[namespace])
        elif endpoint is None:
            results[address] = SmokeResult(
                address, Verdict.FAILED, "no such endpoint: apply the stack first"
            )
        else:
            calls[address] = partial(
                run_smoke, api, endpoint, test, clock=clock, sleep=sleep, secrets=hidden
            )
    done = concurrently(calls, limit=SMOKE_PARALLELISM)
    return {**results, **{address: future.result() for address, future in done.items()}}


def _chosen(specs: Sequence[EndpointSpec], names: Sequence[str]) -> list[EndpointSpec]:
    """The specs `names` address (`named_specs`); no names: every spec with a smoke test."""
    if not names:
        return [s for s in specs if s.smoke is not None]
    return named_specs(specs, names, done="nothing was run")


def named_specs(
    specs: Sequence[EndpointSpec], names: Sequence[str], *, done: str
) -> list[EndpointSpec]:
    """The specs `names` address, as `--target` does (a name or NAMESPACE/NAME, shell-style
    globs allowed), in the stack's order. A name that matches no spec is an error naming all
    of them (a typo must not act on nothing); `done` says what was left undone then."""
    patterns = tuple(dict.fromkeys(names))

    def named(spec: EndpointSpec, pattern: str) -> bool:
        address = f"{spec.namespace}/{spec.name}"
        return fnmatchcase(spec.name, pattern) or fnmatchcase(address, pattern)

    unknown = [p for p in patterns if not any(named(s, p) for s in specs)]
    if unknown:
        known = ", ".join(sorted(s.name for s in specs)) or "none"
        raise ProvisionerError(
            *(Diagnostic(None, f"no spec in this stack is named {name!r}") for name in unknown),
            note=f"Name a spec (NAME or NAMESPACE/NAME, globs allowed) of the stack under --dir "
            f"(its specs: {clip(known, 300)}); {done}.",
        )
    return [s for s in specs if any(named(s, p) for p in patterns)]


def spec_secret_values(spec: EndpointSpec, environ: Mapping[str, str]) -> list[str]:
    """What must never be shown: the values of its secrets and of secret-looking env vars."""
    values = [environ.get(ref.from_env, "") for ref in (spec.model.secrets or {}).values()]
    values += [v for k, v in (spec.model.env or {}).items() if looks_secret(k, v)]
    return [v for v in values if v]


def smoke_stack(
    stack: Stack,
    api: EndpointsApi,
    identity: Identity,
    names: Sequence[str],
    *,
    environ: Mapping[str, str],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    scrubber: Scrubber | None = None,
) -> list[SmokeResult]:
    """`provisioner smoke [NAME...]`: the smoke test of each named spec (default: every spec
    that has one) against its live endpoint. A named spec without `smoke:` is reported as not
    run; an endpoint that is not live fails. Answers are scrubbed of the specs' secret values
    and what `scrubber` knows (previous values, by the state's fingerprints)."""
    specs = stack.resolved_specs(identity.user)
    chosen = _chosen(specs, names)
    hidden = (scrubber or Scrubber()).with_values(
        v for spec in specs for v in spec_secret_values(spec, environ)
    )
    runnable = [(s.namespace or "", s.name, s.smoke) for s in chosen if s.smoke is not None]
    ran = _run_all(api, runnable, hidden, clock=clock, sleep=sleep)
    results = []
    for spec in chosen:
        address = f"{spec.namespace}/{spec.name}"
        if spec.smoke is None:
            results.append(SmokeResult(address, Verdict.NOT_RUN, "its spec has no smoke: test"))
        else:
            results.append(ran[address])
    return results
