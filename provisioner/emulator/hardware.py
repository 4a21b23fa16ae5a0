"""The hardware matrix: which computes exist where, their price and status, and default quotas.

Owns loading `hardware.json` (package data, or a replacement file), looking a compute up by the five
values a create request names, and rendering `GET /v2/provider[/{ns}]` with a namespace's quota. It
must not know about endpoints: the quota *used* figures are handed in by the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from provisioner.emulator.config import ConfigError

# Statuses the UI and `hf endpoints hardware` treat as undeployable (huggingface_hub cli).
UNDEPLOYABLE = frozenset({"deprecated", "not_available"})
STATUSES = frozenset({"available", "low_availability", "not_available", "reserved", "deprecated"})
ACCELERATORS = ("cpu", "gpu", "neuron")

QuotaKey = tuple[str, str]  # (vendor, instanceType): the unit quotas are counted in


@dataclass(frozen=True)
class Compute:
    vendor: str
    region: str
    accelerator: str
    instance_type: str
    instance_size: str
    architecture: str
    num_accelerators: int
    num_cpus: int | None
    memory_gb: float
    gpu_memory_gb: int | None
    price_per_hour: float
    status: str

    @property
    def id(self) -> str:
        return f"{self.vendor}-{self.region}-{self.instance_type}-{self.instance_size}"

    @property
    def quota_key(self) -> QuotaKey:
        return (self.vendor, self.instance_type)

    @property
    def deployable(self) -> bool:
        return self.status not in UNDEPLOYABLE


@dataclass(frozen=True)
class Region:
    name: str
    label: str
    status: str
    computes: tuple[Compute, ...]


@dataclass(frozen=True)
class Vendor:
    name: str
    status: str
    regions: tuple[Region, ...]


class Hardware:
    """An immutable, indexed view of the matrix; safe to share between threads."""

    def __init__(self, vendors: tuple[Vendor, ...], default_quotas: Mapping[QuotaKey, int]):
        self.vendors = vendors
        self.default_quotas = dict(default_quotas)
        self._index: dict[tuple[str, str, str, str, str], Compute] = {}
        for vendor in vendors:
            for region in vendor.regions:
                for c in region.computes:
                    key = (c.vendor, c.region, c.accelerator, c.instance_type, c.instance_size)
                    if key in self._index:
                        raise ConfigError(f"hardware: duplicate compute {c.id}")
                    self._index[key] = c

    def find(
        self, vendor: str, region: str, *, accelerator: str, instance_type: str, instance_size: str
    ) -> Compute | None:
        return self._index.get((vendor, region, accelerator, instance_type, instance_size))

    def render(
        self, quota_of: Callable[[QuotaKey], tuple[int, int]] | None = None
    ) -> dict[str, Any]:
        """The `/v2/provider` document; `quota_of(key) -> (max, used)`, or zeros when None."""
        cache: dict[QuotaKey, dict[str, int]] = {}

        def quota(key: QuotaKey) -> dict[str, int]:
            if key not in cache:
                limit, used = quota_of(key) if quota_of is not None else (0, 0)
                cache[key] = {"maxAccelerators": limit, "usedAccelerators": used}
            return dict(cache[key])

        return {
            "vendors": [
                {
                    "name": v.name,
                    "status": v.status,
                    "regions": [
                        {
                            "name": r.name,
                            "label": r.label,
                            "status": r.status,
                            "computes": [
                                _render_compute(c) | {"quota": quota(c.quota_key)}
                                for c in r.computes
                            ],
                        }
                        for r in v.regions
                    ],
                }
                for v in self.vendors
            ]
        }

    def quota_keys(self) -> list[QuotaKey]:
        seen: dict[QuotaKey, None] = {}
        for c in self._index.values():
            seen.setdefault(c.quota_key)
        return list(seen)

    def architecture_of(self, key: QuotaKey) -> str:
        return next((c.architecture for c in self._index.values() if c.quota_key == key), key[1])


def _render_compute(c: Compute) -> dict[str, Any]:
    # Key order and presence follow the MOCK_PROVIDERS fixture: `numCpus` is absent (not null) on
    # CPU rows, `gpuMemoryGb` is null on every non-GPU row.
    row: dict[str, Any] = {
        "id": c.id,
        "accelerator": c.accelerator,
        "numAccelerators": c.num_accelerators,
    }
    if c.num_cpus is not None:
        row["numCpus"] = c.num_cpus
    row.update(
        {
            "memoryGb": c.memory_gb,
            "gpuMemoryGb": c.gpu_memory_gb,
            "instanceType": c.instance_type,
            "instanceSize": c.instance_size,
            "architecture": c.architecture,
            "status": c.status,
            "pricePerHour": c.price_per_hour,
        }
    )
    return row


def load_hardware(path: Path | None = None) -> Hardware:
    """Parse the packaged `hardware.json`, or `path` in the same format."""
    try:
        if path is None:
            text = resources.files("provisioner.emulator").joinpath("hardware.json").read_text()
        else:
            text = path.read_text(encoding="utf-8")
        raw = json.loads(text)
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"hardware file: {err}") from err
    try:
        return _parse(raw)
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"hardware file: malformed ({err!r})") from err


def _parse(raw: dict[str, Any]) -> Hardware:
    vendors: list[Vendor] = []
    for v in raw["vendors"]:
        regions: list[Region] = []
        for r in v["regions"]:
            computes = tuple(_compute(v["name"], r["name"], c) for c in r["computes"])
            regions.append(Region(r["name"], r.get("label", r["name"]), r["status"], computes))
        vendors.append(Vendor(v["name"], v["status"], tuple(regions)))
    quotas = {
        (vendor, itype): int(limit)
        for vendor, types in raw.get("quotas", {}).items()
        for itype, limit in types.items()
    }
    return Hardware(tuple(vendors), quotas)


def _compute(vendor: str, region: str, c: dict[str, Any]) -> Compute:
    if c["accelerator"] not in ACCELERATORS:
        raise ValueError(f"unknown accelerator {c['accelerator']!r}")
    if c["status"] not in STATUSES:
        raise ValueError(f"unknown status {c['status']!r}")
    return Compute(
        vendor=vendor,
        region=region,
        accelerator=c["accelerator"],
        instance_type=c["instanceType"],
        instance_size=c["instanceSize"],
        architecture=c["architecture"],
        num_accelerators=int(c["numAccelerators"]),
        num_cpus=c.get("numCpus"),
        memory_gb=float(c["memoryGb"]),
        gpu_memory_gb=c.get("gpuMemoryGb"),
        price_per_hour=float(c["pricePerHour"]),
        status=c["status"],
    )
