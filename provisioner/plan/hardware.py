"""Is a spec's compute offered to its namespace, and deployable? Checked against the
namespace's hardware list (read before planning); each problem is a diagnostic at the spec's
own `compute` key, listing what is offered instead. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from provisioner.hub.models import Hardware
from provisioner.spec.diagnostics import Diagnostic
from provisioner.spec.model import EndpointSpec


def _listing(values: Sequence[str]) -> str:
    return ", ".join(sorted(set(values))) or "none"


def check_hardware(spec: EndpointSpec, hardware: Sequence[Hardware]) -> Diagnostic | None:
    """Is the spec's compute offered to its namespace, and deployable?"""
    c = spec.compute
    mark = spec.source.mark
    where = f"{c.vendor}/{c.region}"
    in_vendor = [h for h in hardware if h.vendor == c.vendor]
    in_region = [h for h in in_vendor if h.region == c.region]
    if not in_region:
        regions = _listing([h.region for h in in_vendor])
        return Diagnostic(
            mark("compute", "region"),
            f"compute.region: {c.vendor} offers no region {c.region!r} to namespace "
            f"{spec.namespace}; regions: {regions}",
        )
    of_type = [h for h in in_region if h.instance_type == c.instance_type]
    if not of_type:
        types = _listing([h.instance_type for h in in_region if h.accelerator == c.accelerator])
        return Diagnostic(
            mark("compute", "instance_type"),
            f"compute.instance_type: {c.instance_type!r} is not offered in {where}; "
            f"{c.accelerator} types there: {types}",
        )
    if all(h.accelerator != c.accelerator for h in of_type):
        return Diagnostic(
            mark("compute", "accelerator"),
            f"compute.accelerator: {c.instance_type} in {where} is a {of_type[0].accelerator} "
            f"instance, not {c.accelerator}",
        )
    rows = [h for h in of_type if h.instance_size == c.instance_size]
    if not rows:
        sizes = sorted({h.instance_size for h in of_type}, key=lambda s: int(s[1:] or 0))
        return Diagnostic(
            mark("compute", "instance_size"),
            f"compute.instance_size: {c.instance_type} in {where} comes in {', '.join(sizes)}, "
            f"not {c.instance_size}",
        )
    row = rows[0]
    if not row.deployable:
        others = _listing(
            [h.instance_type for h in in_region if h.accelerator == c.accelerator and h.deployable]
        )
        return Diagnostic(
            mark("compute", "instance_type"),
            f"compute.instance_type: {c.instance_type} {c.instance_size} in {where} is "
            f"{row.status.replace('_', ' ')}: the service will not deploy it; deployable "
            f"{c.accelerator} types there: {others}",
        )
    return None
