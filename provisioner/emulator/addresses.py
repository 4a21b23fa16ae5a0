"""Which addresses are this machine only, and where a server bound beyond loopback is reachable.

Pure reads of the host's own names and interfaces (no packet is sent): the admin routes answer
only loopback peers (`admin.check_caller`), and `provisioner emulator --host 0.0.0.0` warns with
the real addresses it serves at.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket


def reachable_addresses(host: str, port: int) -> list[str]:
    """The base URLs other machines can reach a server bound to `host` at: every address of
    this machine's interfaces for `0.0.0.0` or `::` (as far as the host name and the default
    route tell), the address itself otherwise; [] for loopback."""
    if is_loopback(host):
        return []
    wildcard = host in ("", "0.0.0.0", "::")
    found: set[str] = set()
    if not wildcard:
        found.add(host)
    else:
        family = socket.AF_INET6 if host == "::" else socket.AF_INET
        with contextlib.suppress(OSError):
            for info in socket.getaddrinfo(socket.gethostname(), None, family):
                found.add(str(info[4][0]))
        # The address of the default route's interface (no packet is sent by a UDP connect).
        with (
            contextlib.suppress(OSError),
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe,
        ):
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            found.add(str(probe.getsockname()[0]))
    addresses = sorted(a for a in found if not is_loopback(a))
    return [f"http://[{a}]:{port}" if ":" in a else f"http://{a}:{port}" for a in addresses]


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or `localhost`) is this machine only."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback
