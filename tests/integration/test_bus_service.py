"""The daemon's D-Bus interface on a private session bus, with real X11 focus changes:
properties read, PropertiesChanged on a focus change, a snooze refused for a strict rule."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    DBusAddress,
    MatchRule,
    MessageType,
    Properties,
    message_bus,
    new_method_call,
)
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped, unused-ignore]

from presence.daemon.bus_service import INTERFACE, NAME, PATH, REFUSED
from tests.integration.daemon_process import DaemonProcess, window
from tests.integration.sessionbus import REPO, PrivateBus
from tests.integration.xserver import XSession, wait_until

pytestmark = pytest.mark.integration

CONFIG = '[device]\nname = "testbox"\n[reports]\ntimezone = "UTC"\n'
NO_SYSTEM_BUS = "unix:path=/nonexistent/presence-test-system-bus"
DAEMON = DBusAddress(PATH, bus_name=NAME, interface=INTERFACE)


def presence(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "presence", *args], env=env, cwd=REPO, check=True, timeout=60
    )


def in_force(daemon: DaemonProcess, rule: str) -> bool:
    """The daemon logged the start of `rule`'s occurrence (what snooze looks for)."""
    with sqlite3.connect(daemon.db_path) as db:
        query = "SELECT 1 FROM enforcement_log WHERE rule_name = ? AND event = 'start'"
        return db.execute(query, (rule,)).fetchone() is not None


def get_all(conn: Any) -> dict[str, Any]:
    reply = conn.send_and_get_reply(Properties(DAEMON).get_all(), timeout=5)
    assert reply.header.message_type is MessageType.method_return, reply.body
    return {key: value for key, (_sig, value) in reply.body[0].items()}


def test_properties_signal_and_a_refused_snooze(
    x_session: XSession, session_bus: PrivateBus, tmp_path: Path
) -> None:
    _, alpha = x_session.spawn_xterm("AppAlpha", "alpha window")
    _, beta = x_session.spawn_xterm("AppBeta", "beta window")
    env = {
        **x_session.env,
        "DBUS_SESSION_BUS_ADDRESS": session_bus.address,
        "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS,
    }
    daemon = DaemonProcess(tmp_path / "d", env, CONFIG)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)
    end = start + timedelta(minutes=30)
    presence(daemon.env, "rules", "add", "tech-free", "evening", *window(start, end), "--strict")
    presence(daemon.env, "rules", "add", "tech-free", "homework", *window(start, end))
    x_session.focus(alpha)
    daemon.start()
    conn = open_dbus_connection(bus=session_bus.address)
    try:
        daemon.wait_for_log(f"serving {NAME}")
        wait_until(lambda: get_all(conn)["App"] == "AppAlpha" or None, "App = AppAlpha")
        props = get_all(conn)
        assert props["Device"] == "testbox" and props["State"] in ("active", "idle")
        assert props["Since"] > 0 and props["Paused"] is False and props["Offline"] is False
        assert props["TodayActiveSeconds"] >= 0

        # PropertiesChanged when the focus moves
        rule = MatchRule(type="signal", interface="org.freedesktop.DBus.Properties", path=PATH)
        conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=5)
        with conn.filter(rule) as signals:
            x_session.focus(beta)
            deadline = time.monotonic() + 15
            while True:
                msg = conn.recv_until_filtered(signals, timeout=deadline - time.monotonic())
                interface, changed, _ = msg.body
                assert interface == INTERFACE
                if changed.get("App", ("s", ""))[1] == "AppBeta":
                    break

        # the strict window comes into force; a snooze through the bus is refused
        wait_until(lambda: get_all(conn)["Rule"] == "evening" or None, "Rule = evening", 20)
        assert get_all(conn)["RuleEnds"] == int(end.timestamp())
        call = new_method_call(DAEMON, "Snooze", "sus", ("evening", 60, "please"))
        reply = conn.send_and_get_reply(call, timeout=10)
        assert reply.header.message_type is MessageType.error
        assert reply.header.fields[4] == REFUSED  # HeaderFields.error_name
        assert "strict" in reply.body[0]
        call = new_method_call(DAEMON, "Override", "ss", ("evening", "a party"))
        reply = conn.send_and_get_reply(call, timeout=10)
        assert reply.header.message_type is MessageType.error and "strict" in reply.body[0]
        # the same call for a rule that is not strict is paid as the CLI's: logged, once free
        wait_until(lambda: in_force(daemon, "homework") or None, "homework in force", 20)
        call = new_method_call(DAEMON, "Snooze", "sus", ("homework", 60, ""))
        reply = conn.send_and_get_reply(call, timeout=10)
        assert reply.header.message_type is MessageType.method_return, reply.body
        assert abs(reply.body[0] - (time.time() + 60)) < 5
        reply = conn.send_and_get_reply(call, timeout=10)  # a second one costs a reason
        assert reply.header.message_type is MessageType.error and "reason" in reply.body[0]
        call = new_method_call(DAEMON, "Snooze", "sus", ("homework", 60, "one more call"))
        reply = conn.send_and_get_reply(call, timeout=10)
        assert reply.header.message_type is MessageType.method_return, reply.body
        # the third costs a wait sat through at a terminal: refused over the bus
        reply = conn.send_and_get_reply(call, timeout=10)
        assert reply.header.message_type is MessageType.error
        assert reply.header.fields[4] == REFUSED and "waits" in reply.body[0]
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        conn.close()
        daemon.kill()
    with sqlite3.connect(daemon.db_path) as db:
        events = list(db.execute("SELECT rule_name, event FROM enforcement_log"))
    assert ("evening", "snooze") not in events and ("evening", "override") not in events
    assert events.count(("homework", "snooze")) == 2
