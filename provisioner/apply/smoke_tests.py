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

from provisioner.apply.results import Outcome
from provisioner.apply.waiter import RUNNING, target
from provisioner.hub.api import EndpointsApi
from provisioner.hub.errors import ApiError, NotFound
from provisioner.hub.models import Identity, Secrets
from provisioner.smoke.runner import SmokeResult, Verdict, hide, run_smoke
from provisioner.spec.diagnostics import Diagnostic, ProvisionerError, clip
from provisioner.spec.model import EndpointSpec
from provisioner.spec.secrets import looks_secret
from provisioner.spec.smoke import SmokeSpec
from provisioner.spec.stack import Stack

NO_WAIT = "apply did not wait for the endpoint to be ready (--no-wait); run `provisioner smoke`"


def _tested(outcome: Outcome, tests: Mapping[str, SmokeSpec]) -> bool:
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
) -> list[Outcome]:
    """`outcomes`, each tested change's with its smoke result (`tests`: address -> test)."""
    hidden = [value for s in secrets.values() for value in s.values.values()]
    # Env values that look secret (validate warns about them) are blanked too.
    hidden += [
        value
        for o in outcomes
        if o.change.desired is not None
        for name, value in o.change.desired.env.items()
        if looks_secret(name, value)
    ]
    results = []
    for outcome in outcomes:
        if not outcome.ok or not _tested(outcome, tests):
            results.append(outcome)
            continue
        address = outcome.change.address
        if not waited:
            result = SmokeResult(address, Verdict.NOT_RUN, NO_WAIT)
        else:
            result = _run(api, outcome, tests[address], hidden, clock=clock, sleep=sleep)
        if result.verdict is Verdict.FAILED:
            error = f"smoke test failed: {result.detail}"
            results.append(replace(outcome, ok=False, error=error, accepted=True, smoke=result))
        else:
            results.append(replace(outcome, smoke=result))
    return results


def _run(
    api: EndpointsApi,
    outcome: Outcome,
    test: SmokeSpec,
    hidden: list[str],
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> SmokeResult:
    change = outcome.change
    try:
        endpoint = api.get_endpoint(change.namespace, change.name)
    except ApiError as error:
        return SmokeResult(change.address, Verdict.FAILED, hide(str(error), hidden))
    return run_smoke(api, endpoint, test, clock=clock, sleep=sleep, secrets=hidden)


def _chosen(specs: Sequence[EndpointSpec], names: Sequence[str]) -> list[EndpointSpec]:
    """The specs `names` address, as `--target` does (a name or NAMESPACE/NAME, shell-style
    globs allowed), in the stack's order; no names: every spec that declares a smoke test. A
    name that matches no spec is an error naming all of them (a typo must not test nothing)."""
    if not names:
        return [s for s in specs if s.smoke is not None]
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
            f"(its specs: {clip(known, 300)}); nothing was run.",
        )
    return [s for s in specs if any(named(s, p) for p in patterns)]


def _secret_values(spec: EndpointSpec, environ: Mapping[str, str]) -> list[str]:
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
) -> list[SmokeResult]:
    """`provisioner smoke [NAME...]`: the smoke test of each named spec (default: every spec
    that has one) against its live endpoint. A named spec without `smoke:` is reported as not
    run; an endpoint that is not live fails."""
    specs = stack.resolved_specs(identity.user)
    chosen = _chosen(specs, names)
    hidden = [v for spec in specs for v in _secret_values(spec, environ)]
    results = []
    for spec in chosen:
        address = f"{spec.namespace}/{spec.name}"
        if spec.smoke is None:
            results.append(SmokeResult(address, Verdict.NOT_RUN, "its spec has no smoke: test"))
            continue
        assert spec.namespace is not None  # resolved_specs fills it in
        try:
            endpoint = api.get_endpoint(spec.namespace, spec.name)
        except NotFound:
            results.append(
                SmokeResult(address, Verdict.FAILED, "no such endpoint: apply the stack first")
            )
            continue
        except ApiError as error:
            results.append(SmokeResult(address, Verdict.FAILED, hide(str(error), hidden)))
            continue
        results.append(
            run_smoke(api, endpoint, spec.smoke, clock=clock, sleep=sleep, secrets=hidden)
        )
    return results
