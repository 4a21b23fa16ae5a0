"""The admin routes are this machine's only: a request from another machine, one naming another
host (a web page's name rebound to 127.0.0.1) or one from a browser (an Origin header) gets a
403 saying why; a connection that stalls mid-request is closed after the idle timeout."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.addresses import is_loopback, reachable_addresses
from provisioner.emulator.wire import Request


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(speed=0)) as emulator:
        yield emulator


def _admin(emu: Emulator, method: str, path: str, **headers: str) -> tuple[int, str]:
    host, port = emu.url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest(method, path, skip_host="Host" in headers)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", "0")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def test_admin_answers_its_own_host_names(emu: Emulator) -> None:
    port = emu.url.rsplit(":", 1)[1]
    assert _admin(emu, "GET", "/admin/clock")[0] == 200  # Host 127.0.0.1:port, as clients send
    for host in ("localhost", f"localhost:{port}", "127.0.0.1"):
        assert _admin(emu, "GET", "/admin/clock", Host=host)[0] == 200, host


def test_a_rebound_host_name_is_refused_and_changes_nothing(emu: Emulator) -> None:
    emu.add_fault({"kind": "http", "status": 500, "method": "GET", "path": "/v2/endpoint/acme"})
    port = emu.url.rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "evil.example", "127.0.0.1:1"):
        status, body = _admin(emu, "POST", "/admin/reset", Host=host)
        assert status == 403, host
        assert f"admin routes answer only Host 127.0.0.1:{port}" in json.loads(body)["error"]
        assert repr(host) in json.loads(body)["error"]
    assert len(json.loads(_admin(emu, "GET", "/admin/faults")[1])) == 1  # not reset


def test_a_browsers_request_is_refused(emu: Emulator) -> None:
    status, body = _admin(emu, "POST", "/admin/reset", Origin="https://evil.example")
    assert status == 403
    assert "Origin header (a browser's)" in json.loads(body)["error"]
    # Even for a route that does not exist: nothing about the admin surface is told.
    assert _admin(emu, "GET", "/admin/nothing", Origin="null")[0] == 403


@pytest.mark.parametrize("peer", ["192.0.2.7", "10.1.2.3", "::ffff:10.0.0.1", "2001:db8::1"])
def test_a_request_from_another_machine_is_refused(emu: Emulator, peer: str) -> None:
    service = emu._service  # the peer a socket reports cannot be forged from this machine
    request = Request("POST", "/admin/reset", "", {}, b"", host=None, peer=peer)
    response = service.handle(request)
    assert response.status == 403
    assert f"only requests from this machine (loopback), not {peer}" in response.body.decode()
    local = Request("GET", "/admin/clock", "", {}, b"", host=None, peer="::ffff:127.0.0.1")
    assert service.handle(local).status == 200


def test_api_routes_are_not_guarded(emu: Emulator) -> None:
    port = emu.url.rsplit(":", 1)[1]
    status, _ = _admin(
        emu,
        "GET",
        "/api/whoami-v2",
        Host=f"emulator.internal:{port}",
        Authorization="Bearer hf_demo",
    )
    assert status == 200


def test_a_stalled_half_request_is_closed_after_the_idle_timeout() -> None:
    with Emulator(EmulatorConfig(speed=0, idle_timeout=0.2)) as emu:
        host, port = emu.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as conn:
            conn.sendall(b"GET /api/whoami-v2 HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line
            assert conn.recv(1024) == b""  # closed by the server, nothing answered
        with socket.create_connection((host, int(port)), timeout=30) as idle:
            idle.sendall(b"GET /admin/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while chunk := idle.recv(65536):  # the answer, then the close of the idle connection
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")


def test_the_idle_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="idle_timeout must be > 0 seconds"):
        EmulatorConfig(idle_timeout=0)


def test_loopback_and_reachable_addresses() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.8.9.10", "::ffff:127.0.0.1"):
        assert is_loopback(host) and reachable_addresses(host, 8790) == [], host
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.7")
    assert reachable_addresses("192.0.2.7", 8790) == ["http://192.0.2.7:8790"]
    assert reachable_addresses("2001:db8::1", 8790) == ["http://[2001:db8::1]:8790"]
    assert all(
        not is_loopback(u.split("//")[1].rsplit(":", 1)[0])
        for u in reachable_addresses("0.0.0.0", 8790)
    )
