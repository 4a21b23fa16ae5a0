"""Is a spec's compute offered to its namespace, and deployable? Checked against the
namespace's hardware list (read before planning); each problem is a diagnostic at the spec's
own `compute` key, listing what is offered instead (only what the service would deploy, so a
suggestion never leads to a second error) and the closest name when one was mistyped. Pure.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from provisioner.hub.models import Config, Hardware
from provisioner.spec.diagnostics import Diagnostic
from provisioner.spec.model import EndpointSpec

# What picks a hardware listing row: vendor, region, accelerator, instance type and size.
HardwareKey = tuple[str, str, str, str, str]


def _config_key(config: Config) -> HardwareKey:
    return (
        config.vendor,
        config.region,
        config.accelerator,
        config.instance_type,
        config.instance_size,
    )


def _row_key(row: Hardware) -> HardwareKey:
    return (row.vendor, row.region, row.accelerator, row.instance_type, row.instance_size)


def hardware_row(config: Config, hardware: Sequence[Hardware]) -> Hardware | None:
    """The namespace's hardware listing row `config` runs on (vendor, region, accelerator,
    instance type and size), or None when the listing does not show it."""
    wanted = _config_key(config)
    return next((row for row in hardware if _row_key(row) == wanted), None)


class HardwareIndex:
    """`hardware_row` for many configurations of one namespace: the listing read once into a
    table (a plan of 5,000 endpoints prices each twice; scanning a listing of a hundred rows
    each time cost more than the rest of the pricing)."""

    def __init__(self, hardware: Sequence[Hardware]) -> None:
        self._rows: dict[HardwareKey, Hardware] = {}
        for row in hardware:
            self._rows.setdefault(_row_key(row), row)  # the first, as `hardware_row` finds

    def row(self, config: Config) -> Hardware | None:
        return self._rows.get(_config_key(config))


def _listing(values: Sequence[str]) -> str:
    return ", ".join(sorted(set(values))) or "none"


def _sizes(rows: Sequence[Hardware]) -> str:
    """`x1, x2, x4`: in size order (x16 after x4)."""
    sizes = {h.instance_size for h in rows}
    return ", ".join(sorted(sizes, key=lambda s: (int(s[1:]) if s[1:].isdigit() else 0, s)))


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def check_hardware(spec: EndpointSpec, hardware: Sequence[Hardware]) -> Diagnostic | None:
    """Is the spec's compute offered to its namespace, and deployable?"""
    c = spec.compute
    mark = spec.source.mark
    where = f"{c.vendor}/{c.region}"
    in_vendor = [h for h in hardware if h.vendor == c.vendor]
    in_region = [h for h in in_vendor if h.region == c.region]
    if not in_region:
        regions = [h.region for h in in_vendor]
        return Diagnostic(
            mark("compute", "region"),
            f"compute.region: {c.vendor} offers no region {c.region!r} to namespace "
            f"{spec.namespace}; {_did_you_mean(c.region, regions)}regions: {_listing(regions)}",
        )
    deployable = [h for h in in_region if h.accelerator == c.accelerator and h.deployable]
    of_type = [h for h in in_region if h.instance_type == c.instance_type]
    if not of_type:
        types = [h.instance_type for h in deployable]
        return Diagnostic(
            mark("compute", "instance_type"),
            f"compute.instance_type: {c.instance_type!r} is not offered in {where}; "
            f"{_did_you_mean(c.instance_type, types)}{c.accelerator} types there: "
            f"{_listing(types)}",
        )
    if all(h.accelerator != c.accelerator for h in of_type):
        return Diagnostic(
            mark("compute", "accelerator"),
            f"compute.accelerator: {c.instance_type} in {where} is a {of_type[0].accelerator} "
            f"instance, not {c.accelerator}",
        )
    sizes = [h for h in deployable if h.instance_type == c.instance_type]
    others = _listing([h.instance_type for h in deployable if h.instance_type != c.instance_type])
    rows = [h for h in of_type if h.instance_size == c.instance_size]
    if rows and rows[0].deployable:
        return None
    if not sizes:
        return Diagnostic(
            mark("compute", "instance_type"),
            f"compute.instance_type: {c.instance_type} in {where} is {_statuses(of_type)}: the "
            f"service will not deploy it in any size; deployable {c.accelerator} types there: "
            f"{others}",
        )
    if not rows:
        return Diagnostic(
            mark("compute", "instance_size"),
            f"compute.instance_size: {c.instance_type} in {where} comes in {_sizes(sizes)}, "
            f"not {c.instance_size}",
        )
    return Diagnostic(
        mark("compute", "instance_size"),
        f"compute.instance_size: {c.instance_type} {c.instance_size} in {where} is "
        f"{rows[0].status.replace('_', ' ')}: the service will not deploy it; "
        f"{c.instance_type} there comes in {_sizes(sizes)} (other deployable "
        f"{c.accelerator} types: {others})",
    )


def _statuses(rows: Sequence[Hardware]) -> str:
    """`deprecated`, or `x1 deprecated, x8 not available` when the sizes differ."""
    statuses = {h.status for h in rows}
    if len(statuses) == 1:
        return next(iter(statuses)).replace("_", " ")
    ordered = sorted(rows, key=lambda h: int(h.instance_size[1:] or 0))
    return ", ".join(f"{h.instance_size} {h.status.replace('_', ' ')}" for h in ordered)
