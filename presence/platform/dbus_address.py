"""D-Bus addresses: which unix sockets an address names, and whether a bus could be reached.

Pure parsing and a file-existence check: nothing here connects (that is `platform/dbus.py`),
and an `autolaunch:` address is never acted on. Any thread.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from presence.platform.base import Probe

# The D-Bus specification ("Well-known Message Bus Instances") fixes the system bus here when
# DBUS_SYSTEM_BUS_ADDRESS is unset; /var/run/dbus is a symlink to it on current distributions.
SYSTEM_BUS_ADDRESS = "unix:path=/run/dbus/system_bus_socket"

# Bytes a D-Bus address value may carry unescaped (D-Bus specification, "Server Addresses").
_UNESCAPED = re.compile(r"[-0-9A-Za-z_/.*]")


def system_bus_address(env: Mapping[str, str] | None = None) -> str:
    """The system bus address: DBUS_SYSTEM_BUS_ADDRESS if set and non-empty, else the standard one.

    Reads `env` (default: os.environ) and nothing else; any thread.
    """
    env = os.environ if env is None else env
    return env.get("DBUS_SYSTEM_BUS_ADDRESS") or SYSTEM_BUS_ADDRESS


def _unescape(value: str) -> str:
    # %XX escapes are bytes (D-Bus specification, "Server Addresses"); a path is in the
    # filesystem encoding.
    raw = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), os.fsencode(value))
    return os.fsdecode(raw)


def _escape(value: str) -> str:
    # jeepney decodes each %XX to one character, so only ASCII is escaped; other characters
    # pass through jeepney's parser unchanged, which is what it needs to open the right path.
    return "".join(
        c if _UNESCAPED.fullmatch(c) or ord(c) > 127 else f"%{ord(c):02x}" for c in value
    )


@dataclass(frozen=True, slots=True)
class UnixTarget:
    """One connectable unix socket from a D-Bus address: a filesystem path or an abstract name."""

    path: str | None = None
    abstract: str | None = None

    @property
    def address(self) -> str:
        """This target alone, as a D-Bus address jeepney can open."""
        if self.path is not None:
            return f"unix:path={_escape(self.path)}"
        return f"unix:abstract={_escape(self.abstract or '')}"


def unix_targets(address: str) -> list[UnixTarget]:
    """The unix sockets a client may try, in order, for a D-Bus address (`;`-separated list).

    Only `unix:path=` and `unix:abstract=` are kept: jeepney speaks nothing else, and the
    `unix:dir=`/`unix:tmpdir=`/`unix:runtime=` forms are for servers. An `autolaunch:` entry is
    skipped, never acted on. Pure; any thread. Returns [] when nothing is connectable, and for
    a malformed address.
    """
    targets: list[UnixTarget] = []
    for entry in address.split(";"):
        transport, sep, rest = entry.strip().partition(":")
        if not sep or transport != "unix":
            continue
        keys: dict[str, str] = {}
        for pair in rest.split(","):
            key, eq, value = pair.partition("=")
            if eq:
                keys[key] = _unescape(value)
        if keys.get("path"):
            targets.append(UnixTarget(path=keys["path"]))
        elif keys.get("abstract"):
            targets.append(UnixTarget(abstract=keys["abstract"]))
    return targets


def probe_bus(address: str | None, *, bus: str, hint: str) -> Probe:
    """Whether `address` could be connected to, judged without connecting (side-effect free).

    `bus` names the bus in the reason ("session D-Bus"); `hint` says how to get one. Rejects a
    missing address, an address with no unix socket jeepney can use, and a `unix:path=` whose
    socket file does not exist. An abstract socket cannot be checked without connecting, so it
    passes. Any thread.
    """
    if not address:
        return Probe.no(f"no {bus}", hint=hint)
    targets = unix_targets(address)
    if not targets:
        return Probe.no(
            f"{bus} address {address!r} has no unix:path= or unix:abstract= socket",
            hint="presence speaks D-Bus over unix sockets only; point the address at one",
        )
    if all(t.path is not None and not os.path.exists(t.path) for t in targets):
        paths = ", ".join(t.path or "" for t in targets)
        return Probe.no(f"no {bus}: socket {paths} does not exist", hint=hint)
    return Probe.yes()
