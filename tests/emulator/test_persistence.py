"""`data_file`: endpoints and emulated time survive a restart; writes are atomic; no secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import ConfigError, Emulator, EmulatorConfig
from tests.support.hub import TO_RUNNING, create


def test_endpoints_and_time_survive_a_restart(
    tmp_path: Path, hub_for: Callable[..., HfApi]
) -> None:
    data = tmp_path / "state" / "emulator.json"
    config = EmulatorConfig(speed=0, data_file=data)
    with Emulator(config) as first:
        api = hub_for(first)
        create(api, "a", tags=["x"])
        first.advance(TO_RUNNING + 100)
        create(api, "b")
        hf_created = api.get_inference_endpoint("a", namespace="demo").created_at
    assert data.exists()
    with Emulator(config) as second:
        api = hub_for(second)
        assert second.now() == pytest.approx(TO_RUNNING + 100)
        a = api.get_inference_endpoint("a", namespace="demo")
        assert a.status == "running" and a.raw["tags"] == ["x"] and a.created_at == hf_created
        assert a.url == f"{second.url}/endpoints/demo/a"  # URLs follow the new port
        assert api.get_inference_endpoint("b", namespace="demo").status == "pending"
        second.advance(TO_RUNNING)
        assert api.get_inference_endpoint("b", namespace="demo").status == "running"


def test_the_file_is_written_atomically_and_holds_no_secret(
    tmp_path: Path, hub_for: Callable[..., HfApi]
) -> None:
    data = tmp_path / "state" / "emulator.json"
    with Emulator(EmulatorConfig(speed=0, data_file=data)) as emu:
        create(
            hub_for(emu),
            secrets={"KEY": "v3ry-s3cret"},
            custom_image={"url": "r.example.com/a:1"},
            container_registry_username="u",
            container_registry_password="p4ssw0rd",
        )
        emu.flush()
        text = data.read_text()
    assert [p.name for p in data.parent.iterdir()] == ["emulator.json"]  # no temp file left over
    doc = json.loads(data.read_text())
    assert doc["format"] == "provisioner-emulator/1"
    assert [e["name"] for e in doc["endpoints"]] == ["ep"]
    for secret in ("v3ry-s3cret", "p4ssw0rd", "hf_demo"):
        assert secret not in text


def test_a_deletion_is_persisted(tmp_path: Path, hub_for: Callable[..., HfApi]) -> None:
    data = tmp_path / "emulator.json"
    config = EmulatorConfig(speed=0, data_file=data)
    with Emulator(config) as emu:
        api = hub_for(emu)
        create(api, "keep")
        create(api, "drop")
        api.delete_inference_endpoint("drop", namespace="demo")
        emu.advance(5)
        assert [e.name for e in api.list_inference_endpoints(namespace="demo")] == ["keep"]
    with Emulator(config) as emu:
        api = hub_for(emu)
        assert [e.name for e in api.list_inference_endpoints(namespace="demo")] == ["keep"]


def test_an_unusable_data_file_is_a_config_error(tmp_path: Path) -> None:
    data = tmp_path / "emulator.json"
    data.write_text("{not json")
    with pytest.raises(ConfigError, match="not a valid emulator data file"):
        Emulator(EmulatorConfig(data_file=data))
    data.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ConfigError, match="unknown format"):
        Emulator(EmulatorConfig(data_file=data))


def test_without_a_data_file_nothing_is_kept(hub_for: Callable[..., HfApi]) -> None:
    with Emulator(EmulatorConfig(speed=0)) as emu:
        create(hub_for(emu))
    with Emulator(EmulatorConfig(speed=0)) as emu:
        assert hub_for(emu).list_inference_endpoints(namespace="demo") == []


def test_a_concurrent_reader_never_sees_a_partial_file(
    tmp_path: Path, hub_for: Callable[..., HfApi]
) -> None:
    import threading

    data = tmp_path / "emulator.json"
    failures: list[str] = []
    reads = [0]
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            if data.exists():
                try:
                    json.loads(data.read_text())
                    reads[0] += 1
                except ValueError as err:
                    failures.append(str(err))

    with Emulator(EmulatorConfig(speed=0, data_file=data)) as emu:
        api = hub_for(emu)
        thread = threading.Thread(target=reader)
        thread.start()
        for i in range(40):
            create(api, f"ep-{i}", instance_size="x1", env={"PADDING": "x" * 2000})
            emu.flush()
        done.set()
        thread.join()
    assert not failures and reads[0] > 0


def test_a_paused_endpoint_saved_with_its_replica_counts_loads_with_zero(
    tmp_path: Path, hub_for: Callable[..., HfApi]
) -> None:
    # Files written before pausing set the counts to 0 keep them; loaded, they read as paused
    # now, so a PUT resending those counts cannot resume the endpoint by surprise.
    data = tmp_path / "emulator.json"
    config = EmulatorConfig(speed=0, data_file=data)
    with Emulator(config) as emu:
        api = hub_for(emu)
        create(api, min_replica=1, max_replica=2)
        api.pause_inference_endpoint("ep", namespace="demo")
    doc = json.loads(data.read_text())
    doc["endpoints"][0]["spec"]["compute"]["scaling"].update(minReplica=1, maxReplica=2)
    data.write_text(json.dumps(doc))
    with Emulator(config) as emu:
        ep = hub_for(emu).get_inference_endpoint("ep", namespace="demo")
        assert ep.status == "paused"
        scaling = ep.raw["compute"]["scaling"]
        assert (scaling["minReplica"], scaling["maxReplica"]) == (0, 0)
