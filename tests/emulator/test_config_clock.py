"""EmulatorConfig, the JSON config loader (including the README's example) and the clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import provisioner.emulator
from provisioner.emulator import (
    ConfigError,
    Durations,
    Emulator,
    EmulatorConfig,
    OrgConfig,
    TokenConfig,
    UserConfig,
    load_config_file,
)
from provisioner.emulator.clock import Clock
from tests.support.raw_http import call, create_body

README = Path(provisioner.emulator.__file__).with_name("README.md")


def test_defaults() -> None:
    config = EmulatorConfig()
    assert [u.name for u in config.users] == ["demo"]
    assert config.users[0].tokens == (TokenConfig("hf_demo", "write"),)
    assert config.users[0].orgs == ("acme",) and [o.name for o in config.orgs] == ["acme"]
    assert config.durations == Durations(3, 12, 8, 5, 5, 1)
    assert (config.speed, config.latency_ms, config.fault_rate, config.seed) == (1.0, 0, 0.0, None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"speed": -1}, "speed"),
        ({"speed": float("inf")}, "speed"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"fault_rate": 1.5}, "fault_rate"),
        ({"users": (UserConfig("a", (TokenConfig("t"),), ("nope",)),)}, "unknown org"),
        (
            {"users": (UserConfig("a", (TokenConfig("t"),)), UserConfig("b", (TokenConfig("t"),)))},
            "more than one user",
        ),
        ({"users": (UserConfig("acme", ()),), "orgs": (OrgConfig("acme"),)}, "distinct names"),
        ({"users": (UserConfig("a", (TokenConfig("t", "admin"),)),)}, "role"),
    ],
)
def test_invalid_values_are_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EmulatorConfig(**kwargs)  # type: ignore[arg-type]


def test_the_readme_example_config_loads(tmp_path: Path) -> None:
    section = README.read_text().split("### Config file", 1)[1]
    example = re.search(r"```json\n(.*?)```", section, re.S)
    assert example is not None
    path = tmp_path / "emulator.json"
    path.write_text(example.group(1))
    config = load_config_file(path, EmulatorConfig(speed=0))
    assert config.speed == 0  # base kept
    assert [u.name for u in config.users] == ["demo", "mallory"]
    assert config.users[0].tokens[1] == TokenConfig("hf_demo_ro", "read")
    assert config.quotas["acme"]["gcp"]["nvidia-h100"] == 8
    assert config.durations.delete_grace == 0.5
    with Emulator(config) as emu:  # and an emulator starts with it
        assert emu.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "expected an object"),
        ('{"users": {}}', "users: expected a list"),
        ('{"users": [{"name": ""}]}', "users[0].name"),
        ('{"users": [{"name": "a", "password": "x"}]}', "unknown key"),
        ('{"users": [{"name": "a", "tokens": [{"value": "t", "role": "root"}]}]}', "role"),
        ('{"quotas": {"demo": {"aws": {"nvidia-l4": -1}}}}', "quotas.demo.aws.nvidia-l4"),
        ('{"quotas": {"demo": {"aws": {"nvidia-l4": true}}}}', "quotas.demo.aws.nvidia-l4"),
        ('{"durations": {"warmup": 1}}', "unknown key"),
        ('{"durations": {"pending": "1"}}', "durations.pending"),
        ('{"omit_secrets": "yes"}', "omit_secrets: expected true or false"),
    ],
)
def test_config_file_errors_name_the_key(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config_file(path)


def test_the_behaviour_switches_load_from_a_config_file(tmp_path: Path) -> None:
    path = tmp_path / "emulator.json"
    path.write_text('{"drop_undocumented_options": true, "refuse_updates_while_starting": true}')
    config = load_config_file(path)
    assert config.drop_undocumented_options and config.refuse_updates_while_starting
    assert not config.omit_secrets


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config_file(tmp_path / "absent.json")


def test_clock_scales_real_time_and_advances() -> None:
    real = [100.0]
    clock = Clock(2.0, monotonic=lambda: real[0])
    assert clock.now() == 0.0
    real[0] = 103.0
    assert clock.now() == 6.0
    assert clock.advance(10) == 16.0
    with pytest.raises(ValueError, match="negative"):
        clock.advance(-1)


def test_frozen_clock_only_moves_with_advance() -> None:
    real = [0.0]
    clock = Clock(0.0, start=5.0, monotonic=lambda: real[0])
    real[0] = 1000.0
    assert clock.now() == 5.0
    clock.advance(1.5)
    assert clock.now() == 6.5


def test_clock_timestamps_use_the_api_format() -> None:
    clock = Clock(0.0, epoch=datetime(2025, 3, 7, 15, 30, 13, 949_123, tzinfo=UTC))
    assert clock.iso(0) == "2025-03-07T15:30:13.949Z"
    assert clock.iso(60.5) == "2025-03-07T15:31:14.449Z"


def test_configured_epoch_drives_created_at() -> None:
    epoch = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    with Emulator(EmulatorConfig(speed=0, epoch=epoch)) as emu:
        emu.advance(1)
        body = create_body("ep")
        doc = call("POST", f"{emu.url}/v2/endpoint/demo", body).json()
        assert doc["status"]["createdAt"] == "2025-01-02T03:04:06.000Z"
