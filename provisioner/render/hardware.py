"""`provisioner hardware`: what a namespace can deploy, from the API's hardware listing, as a
table or as JSON. Pure: rows in, text out.

Quota is per namespace, vendor and instance type, counted in accelerators (`plan/quota.py`):
every row of one instance type repeats the same figures, which the table shows on each row so a
row can be read alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from provisioner.hub.models import Hardware

HARDWARE_FORMAT_VERSION = "1"


def _key(row: Hardware) -> tuple[str, str, str, str, int, str]:
    return (
        row.vendor,
        row.region,
        row.accelerator,
        row.instance_type,
        row.num_accelerators,
        row.instance_size,
    )


def ordered(rows: Sequence[Hardware]) -> list[Hardware]:
    return sorted(rows, key=_key)


def _price(row: Hardware) -> str:
    return f"${row.price_per_hour:.2f}"


def render_hardware(namespace: str, rows: Sequence[Hardware], *, everything: bool) -> str:
    if not rows:
        what = "hardware" if everything else "deployable hardware"
        return f"Namespace {namespace} has no {what} matching these filters.\n"
    table = [["VENDOR", "REGION", "ACCELERATOR", "INSTANCE", "SIZE", "PRICE/H", "QUOTA USED/MAX"]]
    if everything:
        table[0].append("STATUS")
    for row in ordered(rows):
        cells = [
            row.vendor,
            row.region,
            row.accelerator,
            row.instance_type,
            row.instance_size,
            _price(row),
            f"{row.quota_used}/{row.quota_max}",
        ]
        if everything:
            cells.append(row.status)
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    note = (
        f"{len(rows)} instance(s) for namespace {namespace}. Quota is in accelerators per vendor "
        "and instance type (a replica of an x4 size holds 4); paused endpoints hold none."
    )
    return "\n".join(lines) + f"\n\n{note}\n"


def _row_json(row: Hardware) -> dict[str, Any]:
    return {
        "vendor": row.vendor,
        "region": row.region,
        "accelerator": row.accelerator,
        "instance_type": row.instance_type,
        "instance_size": row.instance_size,
        "num_accelerators": row.num_accelerators,
        "price_per_hour": row.price_per_hour,
        "status": row.status,
        "deployable": row.deployable,
        "quota": {"used": row.quota_used, "max": row.quota_max},
    }


def render_hardware_json(namespace: str, rows: Sequence[Hardware]) -> str:
    document = {
        "format_version": HARDWARE_FORMAT_VERSION,
        "namespace": namespace,
        "hardware": [_row_json(row) for row in ordered(rows)],
    }
    return json.dumps(document, indent=2) + "\n"
