"""The emulator under stress answers every request with a status, refuses absurd settings, and
stays usable (issue: reliability, "the emulator under stress")."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest

from provisioner.emulator import ConfigError, Emulator, EmulatorConfig
from tests.support.raw_http import call

AUTH = {"Authorization": "Bearer hf_demo"}


def _status(emulator: Emulator, method: str, path: str, **kwargs: object) -> int:
    url = urlparse(emulator.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        conn.request(method, path, **kwargs)  # type: ignore[arg-type]
        return conn.getresponse().status
    finally:
        conn.close()


def test_fifty_clients_at_once_all_get_an_answer(emulator: Emulator) -> None:
    start = threading.Barrier(50)
    statuses: list[int | str] = []
    lock = threading.Lock()

    def client() -> None:
        start.wait()
        for _ in range(4):  # a new connection each time: the listen backlog is what is tested
            try:
                got: int | str = _status(emulator, "GET", "/v2/endpoint/demo", headers=AUTH)
            except OSError as error:
                got = type(error).__name__
            with lock:
                statuses.append(got)

    threads = [threading.Thread(target=client) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 200


def test_a_deeply_nested_body_gets_a_400(emulator: Emulator) -> None:
    body = "[" * 100_000 + "]" * 100_000
    headers = {**AUTH, "Content-Type": "application/json"}
    assert _status(emulator, "POST", "/v2/endpoint/demo", body=body, headers=headers) == 400
    assert _status(emulator, "GET", "/v2/endpoint/demo", headers=AUTH) == 200  # still usable


def test_a_negative_chunk_size_gets_a_400(emulator: Emulator) -> None:
    url = urlparse(emulator.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        conn.putrequest("POST", "/v2/endpoint/demo")
        for key, value in {**AUTH, "Content-Type": "application/json"}.items():
            conn.putheader(key, value)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"-5\r\n{}\r\n0\r\n\r\n")
        assert conn.getresponse().status == 400
    finally:
        conn.close()


def test_absurd_clock_settings_are_refused_and_time_stays_usable(
    make_emulator: Callable[..., Emulator],
) -> None:
    with pytest.raises(ConfigError, match="speed must be a number between 0 and 10000"):
        EmulatorConfig(speed=1e308)
    emulator = make_emulator()
    reply = call("POST", f"{emulator.url}/admin/clock", {"advance": 1e12})
    assert reply.status == 400
    assert "cannot advance the clock past" in reply.text
    assert _status(emulator, "GET", "/v2/endpoint/demo", headers=AUTH) == 200
    status = call("GET", f"{emulator.url}/admin/clock", None)
    assert status.status == 200 and json.loads(status.text)["time"].startswith("20")


def test_a_data_file_that_cannot_be_written_is_refused_at_start() -> None:
    # Readable as "no data yet", but nothing can be created there (not even by root).
    emulator = Emulator(EmulatorConfig(speed=0, data_file=Path("/proc/provisioner-state.json")))
    with pytest.raises(ConfigError, match="cannot write data file"):
        emulator.start()
    emulator.stop()  # nothing was started: stopping is harmless
