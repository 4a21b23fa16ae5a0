"""`provisioner emulator`: a URL line on stdout, serves until a signal, exits 0; usage errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.addresses import reachable_addresses
from tests.support.raw_http import call, create_body

PROVISIONER = [sys.executable, "-m", "provisioner"]


# Each test starts `provisioner emulator` as a process.
pytestmark = pytest.mark.slow


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*PROVISIONER, "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    return proc, url


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_prints_the_url_serves_and_exits_0_on_signal(
    running: list[subprocess.Popen[str]], sig: signal.Signals
) -> None:
    proc, url = start("--speed", "0")
    running.append(proc)
    assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
    assert call("GET", f"{url}/api/whoami-v2").json()["name"] == "demo"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == ""  # nothing but the URL line on stdout
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "abc"], "Invalid value for '--port'"),
        (["--port", "70000"], "Invalid value for '--port'"),
        (["--speed", "-1"], "Invalid value for '--speed'"),
        (["--speed", "nan"], "speed must be a number between 0 and 10000"),
        (["--speed", "1e308"], "speed must be a number between 0 and 10000"),
        (["--fault-rate", "2"], "Invalid value for '--fault-rate'"),
        (["--latency-ms", "-5"], "Invalid value for '--latency-ms'"),
        (["--seed", "x"], "Invalid value for '--seed'"),
        (["--config", "/nonexistent/emulator.json"], "Invalid value for '--config'"),
        (["--no-such-flag"], "No such option"),
    ],
)
def test_bad_flags_are_usage_errors_without_a_traceback(args: list[str], message: str) -> None:
    done = subprocess.run(
        [*PROVISIONER, "emulator", *args], check=False, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 1  # usage errors exit 1 project-wide: 2 means "changes present"
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"users": [{"name": "x", "tokens": [42]}]}', "users[0].tokens[0]"),
        ('{"durations": {"pending": -1}}', "durations.pending"),
        ('{"colour": "blue"}', "unknown key(s) ['colour']"),
    ],
)
def test_a_bad_config_file_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "emulator.json"
    path.write_text(content)
    done = subprocess.run(
        [*PROVISIONER, "emulator", "--config", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1  # usage errors exit 1 project-wide: 2 means "changes present"
    assert "Invalid value for '--config'" in done.stderr and message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_busy_port_is_a_usage_error(running: list[subprocess.Popen[str]]) -> None:
    proc, url = start("--speed", "0")
    running.append(proc)
    port = url.rsplit(":", 1)[1]
    done = subprocess.run(
        [*PROVISIONER, "emulator", "--port", port],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1  # usage errors exit 1 project-wide: 2 means "changes present"
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_config_and_data_files_are_used(
    tmp_path: Path, running: list[subprocess.Popen[str]]
) -> None:
    config = tmp_path / "emulator.json"
    config.write_text(
        json.dumps(
            {
                "users": [{"name": "alice", "tokens": ["hf_alice"], "orgs": ["lab"]}],
                "orgs": [{"name": "lab"}],
                "durations": {"pending": 0, "initializing": 0},
            }
        )
    )
    data = tmp_path / "state.json"
    proc, url = start("--speed", "0", "--config", str(config), "--data", str(data))
    running.append(proc)
    assert call("GET", f"{url}/api/whoami-v2", token="hf_demo").status == 401
    assert call("GET", f"{url}/api/whoami-v2", token="hf_alice").json()["orgs"][0]["name"] == "lab"
    body = create_body("ep")
    created = call("POST", f"{url}/v2/endpoint/lab", body, token="hf_alice").json()
    assert created["status"]["state"] == "running"  # zero durations
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert [e["name"] for e in json.loads(data.read_text())["endpoints"]] == ["ep"]


def test_a_corrupt_data_file_is_a_usage_error(tmp_path: Path) -> None:
    data = tmp_path / "state.json"
    data.write_text("garbage")
    done = subprocess.run(
        [*PROVISIONER, "emulator", "--data", str(data)],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1  # usage errors exit 1 project-wide: 2 means "changes present"
    assert "Invalid value for '--data'" in done.stderr and "Traceback" not in done.stderr


def _saved(tmp_path: Path) -> dict[str, Any]:
    """A data file as the emulator writes it, with one endpoint in it."""
    data = tmp_path / "saved.json"
    with Emulator(EmulatorConfig(speed=0, data_file=data)) as emu:
        assert call("POST", f"{emu.url}/v2/endpoint/demo", create_body("ep")).status == 200
    document: dict[str, Any] = json.loads(data.read_text())
    return document


def _record(edit: Callable[[dict[str, Any]], object]) -> Callable[[dict[str, Any]], bytes]:
    def corrupt(document: dict[str, Any]) -> bytes:
        edit(document["endpoints"][0])
        return json.dumps(document).encode()

    return corrupt


CORRUPTIONS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "empty": lambda doc: b"",
    "truncated": lambda doc: json.dumps(doc).encode()[:-40],
    "not UTF-8": lambda doc: json.dumps(doc).encode().replace(b'"ep"', b'"\xff\xfe"'),
    "a list at the top": lambda doc: json.dumps([doc]).encode(),
    "a number for the clock": lambda doc: json.dumps({**doc, "clock": 5}).encode(),
    "a clock that is not a number": lambda doc: json.dumps(
        {**doc, "clock": {**doc["clock"], "now": "soon"}}
    ).encode(),
    "a number for an endpoint": lambda doc: json.dumps({**doc, "endpoints": [5]}).encode(),
    "a number for an endpoint's spec": _record(lambda rec: rec.update(spec=5)),
    "a number for an endpoint's name": _record(lambda rec: rec.update(name=5)),
    "an endpoint without a timeline": _record(lambda rec: rec.update(timeline=[])),
    "an unknown state": _record(lambda rec: rec["timeline"][0].__setitem__(1, "exploded")),
    "a spec without its model": _record(lambda rec: rec["spec"].pop("model")),
    "nested too deep": lambda doc: b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
def test_a_corrupted_data_file_is_a_usage_error_naming_it(tmp_path: Path, corruption: str) -> None:
    data = tmp_path / "state.json"
    data.write_bytes(CORRUPTIONS[corruption](_saved(tmp_path)))
    proc = subprocess.Popen(
        [*PROVISIONER, "emulator", "--port", "0", "--speed", "0", "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"served a corrupted data file: {out!r} {err[-2000:]!r}")
    text = err.decode(errors="replace")
    assert proc.returncode == 1, text
    assert "Invalid value for '--data'" in text and str(data) in text, text
    assert "Traceback" not in text and "internal error" not in text, text
    assert out == b""


def test_bound_beyond_loopback_it_warns_with_the_addresses_it_answers_at(
    running: list[subprocess.Popen[str]],
) -> None:
    proc, url = start("--speed", "0", "--host", "0.0.0.0")
    running.append(proc)
    port = int(url.rsplit(":", 1)[1])
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    (warning,) = [line for line in err.splitlines() if line.startswith("warning:")]
    assert "listening on 0.0.0.0, beyond loopback: other machines can reach the emulator" in (
        warning
    )
    for address in reachable_addresses("0.0.0.0", port) or [f"port {port}"]:
        assert address in warning
    assert "/admin/ routes answer only requests from this machine" in warning


def test_on_loopback_it_does_not_warn(running: list[subprocess.Popen[str]]) -> None:
    proc, _ = start("--speed", "0", "--idle-timeout", "5")
    running.append(proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "warning:" not in err
