"""The hardware matrix (`GET /v2/provider/{ns}`) and per-namespace quota accounting."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from provisioner.emulator import Emulator, EmulatorConfig, load_config_file
from tests.support.hub import RESUME_TO_RUNNING, TO_RUNNING, create
from tests.support.raw_http import call

# Keys of a compute row in huggingface_hub's MOCK_PROVIDERS fixture.
GPU_KEYS = {
    "id",
    "accelerator",
    "numAccelerators",
    "numCpus",
    "memoryGb",
    "gpuMemoryGb",
    "instanceType",
    "instanceSize",
    "architecture",
    "status",
    "pricePerHour",
    "quota",
}
CPU_KEYS = GPU_KEYS - {"numCpus"}


def rows(emulator: Emulator, namespace: str = "demo") -> dict[str, dict[str, object]]:
    doc = call("GET", f"{emulator.url}/v2/provider/{namespace}").json()
    return {c["id"]: c for v in doc["vendors"] for r in v["regions"] for c in r["computes"]}


def quota(hf_api: HfApi, hw_id: str, namespace: str = "demo") -> tuple[int, int]:
    hw = {h.id: h for h in hf_api.list_inference_endpoints_hardware(namespace=namespace)}[hw_id]
    return hw.used_accelerators, hw.max_accelerators


def test_matrix_covers_the_required_vendors_regions_and_prices(hf_api: HfApi) -> None:
    hardware = hf_api.list_inference_endpoints_hardware(namespace="demo")
    by_id = {h.id: h for h in hardware}
    regions = {(h.vendor, h.region) for h in hardware}
    assert {
        ("aws", "us-east-1"),
        ("aws", "eu-west-1"),
        ("azure", "eastus"),
        ("gcp", "us-east4"),
    } <= regions
    # Prices from the official price list (reference section 4).
    expected = {
        "aws-us-east-1-intel-spr-x1": 0.033,
        "aws-us-east-1-intel-spr-x16": 0.536,
        "aws-us-east-1-nvidia-t4-x4": 3.0,
        "aws-us-east-1-nvidia-l4-x1": 0.8,
        "aws-us-east-1-nvidia-a10g-x4": 5.0,
        "aws-us-east-1-nvidia-l40s-x8": 23.5,
        "aws-us-east-1-nvidia-a100-x8": 20.0,
        "aws-us-east-1-inf2-x12": 12.0,
        "aws-us-east-1-intel-icl-x8": 0.256,
        "azure-eastus-intel-xeon-x8": 0.48,
        "gcp-us-east4-nvidia-l4-x1": 0.7,
        "gcp-us-east4-nvidia-a100-x8": 28.8,
        "gcp-us-east4-nvidia-h100-x8": 80.0,
        "gcp-us-east4-intel-spr-x1": 0.05,
    }
    assert {k: by_id[k].price_per_hour for k in expected} == expected
    assert by_id["aws-us-east-1-intel-icl-x2"].status == "deprecated"
    assert by_id["aws-us-east-1-nvidia-l40s-x8"].status == "not_available"
    assert by_id["gcp-us-east4-nvidia-a100-x8"].status == "reserved"
    l4 = by_id["aws-us-east-1-nvidia-l4-x1"]
    assert (l4.num_cpus, l4.memory_gb, l4.gpu_memory_gb, l4.architecture) == (
        7,
        30.0,
        24,
        "Nvidia L4",
    )


def test_rows_have_the_fixture_shape(emulator: Emulator) -> None:
    table = rows(emulator)
    cpu = table["aws-us-east-1-intel-spr-x1"]
    gpu = table["aws-us-east-1-nvidia-l4-x1"]
    assert set(cpu) == CPU_KEYS and cpu["gpuMemoryGb"] is None  # numCpus absent, not null
    assert set(gpu) == GPU_KEYS
    assert (
        cpu["numAccelerators"] == 1 and table["aws-us-east-1-intel-spr-x4"]["numAccelerators"] == 4
    )
    assert cpu["quota"] == {"maxAccelerators": 60, "usedAccelerators": 0}
    doc = call("GET", f"{emulator.url}/v2/provider/demo").json()
    for vendor in doc["vendors"]:
        for region in vendor["regions"]:
            for row in region["computes"]:
                assert isinstance(row["memoryGb"], float)
                assert row["id"] == "-".join(
                    (vendor["name"], region["name"], row["instanceType"], row["instanceSize"])
                )
                assert (row["gpuMemoryGb"] is None) == (row["accelerator"] != "gpu")


def test_provider_without_namespace_needs_no_auth_and_reports_zero_quota(
    emulator: Emulator,
) -> None:
    reply = call("GET", f"{emulator.url}/v2/provider", token=None)
    assert reply.status == 200
    quotas = {
        c["quota"]["maxAccelerators"]
        for v in reply.json()["vendors"]
        for r in v["regions"]
        for c in r["computes"]
    }
    assert quotas == {0}


def test_hf_cli_filter_logic_sees_deployable_rows(hf_api: HfApi) -> None:
    # The same rule `hf endpoints hardware` applies: usable status and room for one replica.
    hardware = hf_api.list_inference_endpoints_hardware(namespace="demo")
    deployable = {
        h.id
        for h in hardware
        if h.status not in {"deprecated", "not_available"}
        and h.max_accelerators - h.used_accelerators >= h.num_accelerators
    }
    assert "aws-us-east-1-nvidia-l4-x1" in deployable
    assert "aws-us-east-1-intel-icl-x1" not in deployable
    assert "gcp-us-east4-nvidia-h100-x1" not in deployable  # 0/0 quota, as seen live


def test_quota_counts_accelerators_times_max_replica_per_vendor_and_type(
    hf_api: HfApi, emulator: Emulator
) -> None:
    create(hf_api, "a", instance_size="x4", max_replica=2)  # 4 x 2
    create(hf_api, "b", instance_size="x1")  # 1
    create(hf_api, "c", region="eu-west-1", instance_size="x2")  # same vendor + type: 2
    create(hf_api, "d", vendor="gcp", region="us-east4", instance_size="x2")  # other vendor
    assert quota(hf_api, "aws-us-east-1-intel-spr-x1") == (11, 60)
    assert quota(hf_api, "aws-eu-west-1-intel-spr-x16") == (11, 60)
    assert quota(hf_api, "gcp-us-east4-intel-spr-x1") == (2, 60)
    assert quota(hf_api, "aws-us-east-1-intel-spr-x1", namespace="acme") == (0, 60)
    assert rows(emulator)["aws-us-east-1-intel-spr-x2"]["quota"] == {
        "maxAccelerators": 60,
        "usedAccelerators": 11,
    }


def test_paused_failed_and_deleted_free_quota_scaled_to_zero_keeps_it(
    hf_api: HfApi, emulator: Emulator
) -> None:
    key = "aws-us-east-1-intel-spr-x1"
    emulator.add_fault({"kind": "fail_deploy", "namespace": "demo", "name": "doomed"})
    for name in ("paused", "zero", "doomed", "gone"):
        create(hf_api, name, instance_size="x2")
    assert quota(hf_api, key) == (8, 60)
    emulator.advance(TO_RUNNING)  # "doomed" ends failed
    assert quota(hf_api, key) == (6, 60)
    hf_api.pause_inference_endpoint("paused", namespace="demo")
    hf_api.scale_to_zero_inference_endpoint("zero", namespace="demo")
    hf_api.delete_inference_endpoint("gone", namespace="demo")
    assert quota(hf_api, key) == (2, 60)  # only the scaled-to-zero one
    hf_api.resume_inference_endpoint("paused", namespace="demo")
    assert quota(hf_api, key) == (4, 60)


def test_quota_is_checked_on_resume_and_on_update(
    make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi], tmp_path: Path
) -> None:
    config_file = tmp_path / "emulator.json"
    config_file.write_text(json.dumps({"quotas": {"demo": {"aws": {"nvidia-l4": 2}}}}))
    emu = make_emulator(load_config_file(config_file, EmulatorConfig(speed=0)))
    api = hub_for(emu)
    gpu = {"accelerator": "gpu", "instance_type": "nvidia-l4", "instance_size": "x1"}
    assert quota(api, "aws-us-east-1-nvidia-l4-x1") == (0, 2)
    assert quota(api, "aws-us-east-1-nvidia-l4-x1", namespace="acme") == (0, 16)
    create(api, "a", **gpu)
    create(api, "b", **gpu)
    with pytest.raises(HfHubHTTPError, match="Conflict: Quota exceeded"):
        api.update_inference_endpoint("a", namespace="demo", max_replica=2)
    api.pause_inference_endpoint("a", namespace="demo")
    # Paused, it holds no quota; a PUT carrying replica counts would resume it, so it asks for
    # them (1 used by b + 2 > 2). A PUT without counts is stored and holds nothing.
    with pytest.raises(HfHubHTTPError, match="1 of 2 accelerators in use, 2 more requested"):
        api.update_inference_endpoint("a", namespace="demo", max_replica=2)
    api.update_inference_endpoint("a", namespace="demo", env={"X": "1"})
    create(api, "c", **gpu)
    with pytest.raises(HfHubHTTPError) as err:
        api.resume_inference_endpoint("a", namespace="demo")
    assert err.value.response.status_code == 409
    assert "Conflict: Quota exceeded" in str(err.value)
    api.delete_inference_endpoint("c", namespace="demo")
    api.delete_inference_endpoint("b", namespace="demo")
    api.resume_inference_endpoint("a", namespace="demo")
    emu.advance(RESUME_TO_RUNNING)
    assert api.get_inference_endpoint("a", namespace="demo").status == "running"


def test_quotas_route_lists_limits_and_usage(hf_api: HfApi, emulator: Emulator) -> None:
    create(hf_api, accelerator="gpu", instance_type="nvidia-t4", instance_size="x1")
    doc = call("GET", f"{emulator.url}/v2/provider/quotas/demo").json()
    aws = next(v for v in doc["vendors"] if v["name"] == "aws")
    t4 = next(q for q in aws["quotas"] if q["instanceType"] == "nvidia-t4")
    assert t4 == {
        "instanceType": "nvidia-t4",
        "architecture": "Nvidia T4",
        "maxAccelerators": 30,
        "usedAccelerators": 1,
    }


def test_a_replacement_hardware_file_is_used(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    hw = {
        "vendors": [
            {
                "name": "aws",
                "status": "available",
                "regions": [
                    {
                        "name": "us-east-1",
                        "label": "N. Virginia",
                        "status": "available",
                        "computes": [
                            {
                                "accelerator": "cpu",
                                "numAccelerators": 1,
                                "memoryGb": 2.0,
                                "gpuMemoryGb": None,
                                "instanceType": "intel-spr",
                                "instanceSize": "x1",
                                "architecture": "Intel Sapphire Rapids",
                                "status": "available",
                                "pricePerHour": 0.01,
                            }
                        ],
                    }
                ],
            }
        ],
        "quotas": {"aws": {"intel-spr": 3}},
    }
    path = tmp_path / "hw.json"
    path.write_text(json.dumps(hw))
    emu = make_emulator(EmulatorConfig(speed=0, hardware_file=path))
    table = rows(emu)
    assert list(table) == ["aws-us-east-1-intel-spr-x1"]
    assert table["aws-us-east-1-intel-spr-x1"]["quota"] == {
        "maxAccelerators": 3,
        "usedAccelerators": 0,
    }
