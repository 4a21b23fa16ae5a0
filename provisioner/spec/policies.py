"""The stack's policies (`policies:` in `_settings.yaml`): rules an organisation sets on every
spec of a stack, on top of what the service itself accepts.

Owns the `Policies` value, reading it from a schema-valid settings document, and checking one
built spec against it. Every rule reads only the spec and the settings, never the API, so
`validate` reports a violation without a token, and `plan` and `apply` stop on one before their
first request. A violation is an error at the spec's own line (or the `_defaults.yaml` line it
inherited the value from), naming the policy and what it allows.

One rule is on unless the settings say otherwise: a `from_env` secret may not read one of the
pipeline's own credentials (`HF_TOKEN`, `AWS_*`, `GITHUB_TOKEN`, ..., `secrets.pipeline_credential`)
unless `policies.allow_pipeline_credentials` names it. The exception lives in `_settings.yaml`, not
beside the `from_env`: the pipeline's credentials are the stack's, and a change to the settings can
be held to other reviewers (CODEOWNERS) than a change to one spec.

Rules that need the API or a price list (a monthly cost ceiling) do not belong here: a cost
policy would be checked on the plan, where the hardware listing is known.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from provisioner.spec.diagnostics import Diagnostic, Severity, shown
from provisioner.spec.loader import Document
from provisioner.spec.model import EndpointSpec, EndpointType
from provisioner.spec.secrets import PIPELINE_CREDENTIALS, own_variable, pipeline_credential

# A full commit sha as the Hub reports it: a branch or tag name moves, a short sha may not
# stay unambiguous, and the Hub answers with lowercase hex.
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Policies:
    """What the stack allows; None (or false, or empty) means the rule is off."""

    vendors: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    instance_types: tuple[str, ...] | None = None
    max_replicas: int | None = None
    require_pinned_revision: bool = False
    forbid_public: bool = False
    # Folders relative to the spec directory, as `PurePosixPath`s (`.` is the whole stack).
    require_scale_to_zero: tuple[PurePosixPath, ...] = ()
    # USD a month at max_replicas; checked on the plan (`plan.cost_policy`), which has prices.
    max_monthly_cost_per_endpoint: float | None = None
    max_monthly_cost: float | None = None
    # The pipeline credentials a `from_env` may read after all (the one rule on by default).
    allow_pipeline_credentials: frozenset[str] = frozenset()


NO_POLICIES = Policies()


def _names(value: Any) -> tuple[str, ...] | None:
    return tuple(value) if isinstance(value, list) else None


def _folder(text: str) -> PurePosixPath | None:
    """`dev`, `./dev/`, `teams/dev` as a relative folder; None for one outside the stack."""
    path = PurePosixPath(text.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        return None
    return path


def parse(
    document: Document, data: Mapping[str, Any], root: Path
) -> tuple[Policies, list[Diagnostic]]:
    """The policies of a settings document the schema accepted (`data` is its mapping), and the
    problems the schema cannot see: a folder outside the stack, a folder that does not exist."""
    block = data.get("policies")
    if not isinstance(block, dict):
        return NO_POLICIES, []
    found: list[Diagnostic] = []
    folders: list[PurePosixPath] = []
    for index, text in enumerate(block.get("require_scale_to_zero", [])):
        where = ("policies", "require_scale_to_zero", index)
        folder = _folder(text)
        if folder is None:
            found.append(
                Diagnostic(
                    document.mark(where),
                    f"policies.require_scale_to_zero: {shown(text)} is not a folder inside the "
                    "spec directory: write it relative to the directory, e.g. dev",
                )
            )
            continue
        if not (root / folder).is_dir():
            found.append(
                Diagnostic(
                    document.mark(where),
                    f"policies.require_scale_to_zero: no folder {shown(str(folder))} in the spec "
                    "directory: the policy applies to no spec",
                    Severity.WARNING,
                )
            )
        folders.append(folder)
    policies = Policies(
        vendors=_names(block.get("vendors")),
        regions=_names(block.get("regions")),
        instance_types=_names(block.get("instance_types")),
        max_replicas=block.get("max_replicas"),
        require_pinned_revision=bool(block.get("require_pinned_revision", False)),
        forbid_public=bool(block.get("forbid_public", False)),
        require_scale_to_zero=tuple(folders),
        max_monthly_cost_per_endpoint=block.get("max_monthly_cost_per_endpoint"),
        max_monthly_cost=block.get("max_monthly_cost"),
        allow_pipeline_credentials=frozenset(block.get("allow_pipeline_credentials", ())),
    )
    return policies, found


def _allowed(
    spec: EndpointSpec, path: tuple[str, str], value: str, allowed: tuple[str, ...] | None
) -> Iterator[Diagnostic]:
    if allowed is None or value in allowed:
        return
    policy = {"vendor": "vendors", "region": "regions", "instance_type": "instance_types"}
    yield Diagnostic(
        spec.source.mark(*path),
        f"{'.'.join(path)}: {shown(value)} is not allowed by policies.{policy[path[1]]} "
        f"(allowed: {', '.join(allowed)})",
    )


def _compute(spec: EndpointSpec, policies: Policies) -> Iterator[Diagnostic]:
    compute = spec.compute
    yield from _allowed(spec, ("compute", "vendor"), compute.vendor, policies.vendors)
    yield from _allowed(spec, ("compute", "region"), compute.region, policies.regions)
    yield from _allowed(
        spec, ("compute", "instance_type"), compute.instance_type, policies.instance_types
    )


def _replicas(spec: EndpointSpec, policies: Policies) -> Iterator[Diagnostic]:
    limit, declared = policies.max_replicas, spec.scaling.max_replicas
    if limit is not None and declared > limit:
        yield Diagnostic(
            spec.source.mark("scaling", "max_replicas"),
            f"scaling.max_replicas: {declared} is more than policies.max_replicas allows "
            f"(at most {limit})",
        )


def _revision(spec: EndpointSpec, policies: Policies) -> Iterator[Diagnostic]:
    if not policies.require_pinned_revision:
        return
    revision = spec.model.revision
    if revision is None:
        yield Diagnostic(
            spec.source.mark("model", "revision"),
            "model.revision: not set (the default branch, which moves); "
            "policies.require_pinned_revision requires a commit sha (40 lowercase hex characters)",
        )
    elif COMMIT_SHA.match(revision) is None:
        yield Diagnostic(
            spec.source.mark("model", "revision"),
            f"model.revision: {shown(revision)} is not a commit sha; "
            "policies.require_pinned_revision requires one (40 lowercase hex characters)",
        )


def _access(spec: EndpointSpec, policies: Policies) -> Iterator[Diagnostic]:
    if policies.forbid_public and spec.type is EndpointType.PUBLIC:
        yield Diagnostic(
            spec.source.mark("type"),
            "type: 'public' is not allowed by policies.forbid_public "
            "(allowed: authenticated, private)",
        )


def _pipeline_credentials(spec: EndpointSpec, policies: Policies) -> Iterator[Diagnostic]:
    for key, ref in sorted((spec.model.secrets or {}).items()):
        name = ref.from_env
        if not pipeline_credential(name) or name in policies.allow_pipeline_credentials:
            continue
        yield Diagnostic(
            spec.source.mark("model", "secrets", key, "from_env"),
            f"model.secrets.{key}.from_env: {name} is a pipeline credential "
            f"({PIPELINE_CREDENTIALS}), which would be handed to the endpoint's container: use a "
            f"variable of its own (from_env: {own_variable(key)}), or list {name} in "
            "policies.allow_pipeline_credentials",
        )


def _under(folder: PurePosixPath, parent: PurePosixPath) -> bool:
    return folder.parts[: len(parent.parts)] == parent.parts


def _scale_to_zero(
    spec: EndpointSpec, policies: Policies, folder: PurePosixPath
) -> Iterator[Diagnostic]:
    required = next((f for f in policies.require_scale_to_zero if _under(folder, f)), None)
    if required is None or spec.scaling.min_replicas == 0:
        return
    yield Diagnostic(
        spec.source.mark("scaling", "min_replicas"),
        f"scaling.min_replicas: {spec.scaling.min_replicas} is not allowed by "
        f"policies.require_scale_to_zero ({str(required)!r}): specs under it must scale to zero "
        "(min_replicas: 0 with a scale_to_zero_timeout)",
    )


def violations(
    spec: EndpointSpec, policies: Policies, *, folder: PurePosixPath
) -> list[Diagnostic]:
    """Every policy `spec` breaks; `folder` is the spec file's folder relative to the spec
    directory (`.` at its root)."""
    return [
        *_compute(spec, policies),
        *_replicas(spec, policies),
        *_revision(spec, policies),
        *_access(spec, policies),
        *_scale_to_zero(spec, policies, folder),
        *_pipeline_credentials(spec, policies),
    ]
