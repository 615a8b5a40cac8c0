"""D-Bus probes, address handling and error mapping, with no bus.

The error mapping is driven through a scripted stand-in for jeepney's connection that answers
each call with a reply message, or raises what a real socket raises; the same code against a
real bus is tested in tests/integration/test_lock_state.py.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    HeaderFields,
    Message,
    MessageFlag,
    new_error,
    new_method_return,
)
from jeepney.bus import get_connectable_addresses  # type: ignore[import-untyped, unused-ignore]

from presence.core.errors import BackendError
from presence.platform import logind_lock, screensaver_lock
from presence.platform.base import Session
from presence.platform.dbus import (
    ACCESS_DENIED,
    INVALID_ARGS,
    NO_REPLY,
    SERVICE_UNKNOWN,
    SYSTEM_BUS_ADDRESS,
    UNKNOWN_METHOD,
    UNKNOWN_OBJECT,
    UNKNOWN_PROPERTY,
    BusConnection,
    BusDisconnectedError,
    DBusCallError,
    DBusTimeoutError,
    RemoteObject,
    UnixTarget,
    connect,
    probe_bus,
    system_bus_address,
    unix_targets,
)
from presence.platform.logind_lock import LogindLockState
from presence.platform.screensaver_lock import ScreenSaverLockState

NO_BUS = Session(None, None, None, None, None)
SAVER = RemoteObject("org.example.Saver", "/org/example/Saver", "org.example.Saver")

# ---- addresses -----------------------------------------------------------------------------


def test_system_bus_address_defaults_to_the_standard_socket() -> None:
    assert system_bus_address({}) == SYSTEM_BUS_ADDRESS == "unix:path=/run/dbus/system_bus_socket"
    assert system_bus_address({"DBUS_SYSTEM_BUS_ADDRESS": ""}) == SYSTEM_BUS_ADDRESS
    assert system_bus_address({"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/x"}) == "unix:path=/x"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("unix:path=/run/user/1000/bus", [UnixTarget(path="/run/user/1000/bus")]),
        ("unix:path=/tmp/b,guid=0123abcd", [UnixTarget(path="/tmp/b")]),
        ("unix:abstract=/tmp/dbus-X,guid=1", [UnixTarget(abstract="/tmp/dbus-X")]),
        ("unix:path=/tmp/a%2cb%3bc", [UnixTarget(path="/tmp/a,b;c")]),
        ("unix:path=/tmp/%c3%a9", [UnixTarget(path="/tmp/é")]),
        (
            "tcp:host=localhost,port=1;unix:path=/a;unix:abstract=b",
            [UnixTarget(path="/a"), UnixTarget(abstract="b")],
        ),
        ("autolaunch:", []),
        ("unix:dir=/tmp", []),  # a server address: nothing to connect to
        ("tcp:host=localhost,port=1", []),
        ("garbage", []),
        ("", []),
    ],
)
def test_unix_targets(address: str, expected: list[UnixTarget]) -> None:
    assert unix_targets(address) == expected


@pytest.mark.parametrize(
    "target",
    [
        UnixTarget(path="/run/user/1000/bus"),
        UnixTarget(path="/tmp/odd,name;with=all:sorts%of stuff"),
        UnixTarget(path="/tmp/été"),
        UnixTarget(abstract="/tmp/dbus-abc"),
    ],
)
def test_a_target_address_opens_the_same_socket_in_jeepney(target: UnixTarget) -> None:
    expected = target.path if target.path is not None else "\0" + (target.abstract or "")
    assert list(get_connectable_addresses(target.address)) == [expected]
    assert unix_targets(target.address) == [target]


# ---- probes --------------------------------------------------------------------------------


def test_probe_bus_without_an_address_says_why_and_how() -> None:
    probe = probe_bus(None, bus="session D-Bus", hint="start one")
    assert (probe.ok, probe.reason, probe.hint) == (False, "no session D-Bus", "start one")


def test_probe_bus_rejects_an_address_jeepney_cannot_use() -> None:
    probe = probe_bus("tcp:host=localhost,port=4", bus="session D-Bus", hint="x")
    assert not probe.ok
    assert "no unix:path= or unix:abstract=" in probe.reason
    assert "unix sockets" in probe.hint


def test_probe_bus_rejects_a_socket_that_does_not_exist(tmp_path: Path) -> None:
    probe = probe_bus(f"unix:path={tmp_path}/bus", bus="system D-Bus", hint="start it")
    assert not probe.ok
    assert probe.reason == f"no system D-Bus: socket {tmp_path}/bus does not exist"
    assert probe.hint == "start it"


def test_probe_bus_accepts_an_existing_socket_or_an_abstract_one(tmp_path: Path) -> None:
    (tmp_path / "bus").touch()
    assert probe_bus(f"unix:path={tmp_path}/bus", bus="b", hint="h").ok
    assert probe_bus("unix:abstract=/tmp/dbus-x", bus="b", hint="h").ok
    # one reachable socket in a list is enough
    assert probe_bus(f"unix:path={tmp_path}/none;unix:path={tmp_path}/bus", bus="b", hint="").ok


def test_screensaver_probe_without_a_session_bus() -> None:
    probe = ScreenSaverLockState.probe(NO_BUS)
    assert not probe.ok
    assert probe.reason == "no session D-Bus"
    assert "DBUS_SESSION_BUS_ADDRESS" in probe.hint
    assert "XDG_RUNTIME_DIR" in probe.hint


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"DBUS_SESSION_BUS_ADDRESS": "autolaunch:"},
        {"XDG_RUNTIME_DIR": "/nonexistent-runtime-dir"},
    ],
)
def test_screensaver_probe_never_falls_back_to_autolaunch(env: Mapping[str, str]) -> None:
    session = Session.from_env(env)
    assert session.session_bus is None
    assert not ScreenSaverLockState.probe(session).ok


def test_logind_probe_without_a_system_bus(tmp_path: Path) -> None:
    env = {"DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={tmp_path}/system_bus_socket"}
    probe = LogindLockState.probe(NO_BUS, env=env)
    assert not probe.ok
    assert probe.reason.startswith("no system D-Bus")
    assert "DBUS_SYSTEM_BUS_ADDRESS" in probe.hint
    assert "systemctl start dbus" in probe.hint


def test_logind_probe_reads_the_system_bus_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sock").touch()
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/sock")
    assert LogindLockState.probe(NO_BUS).ok


# ---- connecting to something that is not a working bus -------------------------------------


def test_connect_to_a_missing_socket(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="no such socket") as raised:
        connect(f"unix:path={tmp_path}/bus", bus="session D-Bus")
    assert raised.value.message.startswith("cannot connect to the session D-Bus")
    assert raised.value.hint


def test_connect_to_a_socket_nobody_listens_on(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as bound:
        bound.bind(str(tmp_path / "bus"))  # bound, never listening: connect is refused
        with pytest.raises(BackendError, match="connection refused"):
            connect(f"unix:path={tmp_path}/bus")


def test_connect_to_a_bus_that_never_answers(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "bus"))
        server.listen(1)  # the kernel accepts the connection; nobody authenticates it
        with pytest.raises(BackendError, match=r"no answer within 0\.2 s") as raised:
            connect(f"unix:path={tmp_path}/bus", timeout=0.2)
    assert raised.value.hint is not None
    assert "hung" in raised.value.hint


@pytest.mark.parametrize("address", ["tcp:host=localhost,port=1", "autolaunch:"])
def test_connect_refuses_what_it_cannot_or_must_not_use(address: str) -> None:
    with pytest.raises(BackendError, match="has no unix:path= or unix:abstract="):
        connect(address)


# ---- error mapping through a scripted connection --------------------------------------------

Answer = Callable[[Message], Any]  # a reply Message, or an exception to raise


class ScriptedConnection:
    """Stands in for jeepney's blocking connection: answers each call with `answer(msg)`."""

    unique_name = ":1.42"

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.sent: list[Message] = []
        self.closed = False

    def send_and_get_reply(self, msg: Message, *, timeout: float | None = None) -> Message:
        self.sent.append(msg)
        result = self.answer(msg)
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        self.closed = True


def reply(signature: str, *body: Any) -> Answer:
    return lambda msg: new_method_return(msg, signature, body)


def error(name: str, text: str = "it failed") -> Answer:
    return lambda msg: new_error(msg, name, "s", (text,))


def raising(exc: BaseException) -> Answer:
    return lambda msg: exc


def scripted(answer: Answer) -> tuple[BusConnection, ScriptedConnection]:
    conn = ScriptedConnection(answer)
    return BusConnection(conn, address="unix:path=/x", bus="session D-Bus"), conn


def test_call_returns_the_reply_body() -> None:
    bus, conn = scripted(reply("bs", True, "x"))
    assert bus.call(SAVER, "GetActive") == (True, "x")
    fields = conn.sent[0].header.fields
    assert fields[HeaderFields.destination] == "org.example.Saver"
    assert fields[HeaderFields.path] == "/org/example/Saver"
    assert fields[HeaderFields.interface] == "org.example.Saver"
    assert fields[HeaderFields.member] == "GetActive"


def test_calls_never_start_a_service_unless_asked() -> None:
    bus, conn = scripted(reply("v", ("b", True)))
    bus.call(SAVER, "GetActive")
    bus.get_property(SAVER, "Active")
    bus.call(SAVER, "GetActive", auto_start=True)
    flags = [MessageFlag.no_auto_start in m.header.flags for m in conn.sent]
    assert flags == [True, True, False]


@pytest.mark.parametrize(
    ("name", "gone", "hint"),
    [
        (SERVICE_UNKNOWN, True, "not running"),
        (NO_REPLY, True, "not running"),
        (UNKNOWN_METHOD, False, "does not implement"),
        (UNKNOWN_OBJECT, False, "does not implement"),
        (ACCESS_DENIED, False, "policy"),
        ("org.example.Error.Broken", False, "log"),
    ],
)
def test_error_replies_become_call_errors(name: str, gone: bool, hint: str) -> None:
    bus, _ = scripted(error(name, "details here"))
    with pytest.raises(DBusCallError) as raised:
        bus.call(SAVER, "GetActive")
    assert isinstance(raised.value, BackendError)
    assert raised.value.error_name == name
    assert raised.value.service_gone is gone
    assert raised.value.message == (
        f"org.example.Saver.GetActive on org.example.Saver failed: {name}: details here"
    )
    assert raised.value.hint is not None
    assert hint in raised.value.hint


def test_a_timeout_leaves_the_connection_usable() -> None:
    answers = iter([raising(TimeoutError()), reply("b", False)])
    bus, conn = scripted(lambda msg: next(answers)(msg))
    with pytest.raises(DBusTimeoutError, match=r"no reply within 0\.5 s"):
        bus.call(SAVER, "GetActive", timeout=0.5)
    assert bus.call(SAVER, "GetActive") == (False,)
    assert not conn.closed


@pytest.mark.parametrize(
    "exc", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe"), ValueError("fd -1")]
)
def test_a_lost_connection_stays_lost(exc: BaseException) -> None:
    bus, conn = scripted(raising(exc))
    with pytest.raises(BusDisconnectedError, match="lost the session D-Bus connection"):
        bus.call(SAVER, "GetActive")
    assert conn.closed
    with pytest.raises(BusDisconnectedError, match="connection is gone"):
        bus.name_has_owner("org.example.Saver")
    assert len(conn.sent) == 1  # the dead connection was not used again


def test_a_closed_connection_refuses_calls() -> None:
    bus, conn = scripted(reply("b", True))
    bus.close()
    bus.close()
    with pytest.raises(BusDisconnectedError, match="was closed"):
        bus.call(SAVER, "GetActive")
    assert conn.sent == []


def test_get_property_unwraps_the_variant() -> None:
    bus, conn = scripted(reply("v", ("b", True)))
    assert bus.get_property(SAVER, "LockedHint", signature="b") is True
    sent = conn.sent[0]
    assert sent.header.fields[HeaderFields.interface] == "org.freedesktop.DBus.Properties"
    assert sent.header.fields[HeaderFields.member] == "Get"
    assert sent.body == ("org.example.Saver", "LockedHint")


def test_get_property_of_the_wrong_type_is_an_error() -> None:
    bus, _ = scripted(reply("v", ("s", "yes")))
    with pytest.raises(DBusCallError, match="has type 's', expected 'b'") as raised:
        bus.get_property(SAVER, "LockedHint", signature="b")
    assert raised.value.error_name == INVALID_ARGS
    assert not raised.value.service_gone


def test_get_property_with_a_reply_that_is_not_a_variant() -> None:
    bus, _ = scripted(reply("b", True))
    with pytest.raises(DBusCallError, match="is not one variant") as raised:
        bus.get_property(SAVER, "LockedHint")
    assert raised.value.error_name == INVALID_ARGS


def test_name_has_owner_asks_the_bus() -> None:
    bus, conn = scripted(reply("b", False))
    assert bus.name_has_owner("org.example.Saver") is False
    sent = conn.sent[0]
    assert sent.header.fields[HeaderFields.destination] == "org.freedesktop.DBus"
    assert sent.header.fields[HeaderFields.member] == "NameHasOwner"
    assert sent.body == ("org.example.Saver",)


# ---- the backends' contracts over a scripted bus --------------------------------------------


class Routes:
    """Answers by member (or `NameHasOwner:<name>`); each answer may be swapped mid-test."""

    def __init__(self, **answers: Answer) -> None:
        self.answers = answers

    def __call__(self, msg: Message) -> Any:
        member = msg.header.fields[HeaderFields.member]
        key = f"{member}:{msg.body[0]}" if member == "NameHasOwner" else member
        return self.answers.get(key, reply("b", False))(msg)


@pytest.fixture
def scripted_bus(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Routes], ScriptedConnection]]:
    """Make both backends connect to a ScriptedConnection answering with the given routes."""

    def install(routes: Routes) -> ScriptedConnection:
        conn = ScriptedConnection(routes)

        def fake_connect(address: str, *, bus: str = "D-Bus", timeout: float = 0) -> BusConnection:
            return BusConnection(conn, address=address, bus=bus)

        monkeypatch.setattr(screensaver_lock, "connect", fake_connect)
        monkeypatch.setattr(logind_lock, "connect", fake_connect)
        return conn

    yield install


WITH_BUS = Session(None, None, None, "unix:path=/x", None)


def test_screensaver_picks_the_first_service_that_answers(
    scripted_bus: Callable[[Routes], ScriptedConnection],
) -> None:
    routes = Routes(
        **{
            "NameHasOwner:org.freedesktop.ScreenSaver": reply("b", True),
            "NameHasOwner:org.gnome.ScreenSaver": reply("b", False),
            "NameHasOwner:org.mate.ScreenSaver": reply("b", True),
        }
    )
    answers = iter([error(UNKNOWN_METHOD), reply("b", True)])  # freedesktop, then mate
    routes.answers["GetActive"] = lambda msg: next(answers)(msg)
    scripted_bus(routes)
    backend = ScreenSaverLockState(WITH_BUS)
    assert backend.service.bus_name == "org.mate.ScreenSaver"
    routes.answers["GetActive"] = reply("b", True)
    assert backend.locked() is True


def test_screensaver_without_a_service_closes_its_connection(
    scripted_bus: Callable[[Routes], ScriptedConnection],
) -> None:
    routes = Routes(
        **{
            "NameHasOwner:org.freedesktop.ScreenSaver": reply("b", True),
            "GetActive": reply("u", 1),  # a boolean was promised
        }
    )
    conn = scripted_bus(routes)
    with pytest.raises(BackendError, match="no screensaver service answers GetActive") as raised:
        ScreenSaverLockState(WITH_BUS)
    assert "org.freedesktop.ScreenSaver: GetActive returned (1,), not a boolean" in (
        raised.value.message
    )
    assert "org.gnome.ScreenSaver: not running" in raised.value.message
    assert conn.closed


def test_screensaver_without_a_session_bus_raises() -> None:
    with pytest.raises(BackendError, match="no session D-Bus"):
        ScreenSaverLockState(NO_BUS)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (reply("b", False), False),
        (raising(TimeoutError()), None),
        (error(SERVICE_UNKNOWN), None),
        (error(NO_REPLY), None),
    ],
)
def test_screensaver_locked_reads_or_returns_none(
    scripted_bus: Callable[[Routes], ScriptedConnection], answer: Answer, expected: bool | None
) -> None:
    routes = Routes(**{"NameHasOwner:org.freedesktop.ScreenSaver": reply("b", True)})
    routes.answers["GetActive"] = reply("b", True)
    scripted_bus(routes)
    backend = ScreenSaverLockState(WITH_BUS)
    routes.answers["GetActive"] = answer
    assert backend.locked() is expected


@pytest.mark.parametrize(
    "answer",
    [raising(ConnectionResetError(104, "reset")), error(ACCESS_DENIED), reply("s", "on")],
)
def test_screensaver_locked_raises_for_what_will_not_pass(
    scripted_bus: Callable[[Routes], ScriptedConnection], answer: Answer
) -> None:
    routes = Routes(**{"NameHasOwner:org.freedesktop.ScreenSaver": reply("b", True)})
    routes.answers["GetActive"] = reply("b", True)
    scripted_bus(routes)
    backend = ScreenSaverLockState(WITH_BUS)
    routes.answers["GetActive"] = answer
    with pytest.raises(BackendError):
        backend.locked()


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        (Routes(), "systemd-logind is not running"),
        (
            Routes(
                **{
                    "NameHasOwner:org.freedesktop.login1": reply("b", True),
                    "Get": error(UNKNOWN_OBJECT),
                }
            ),
            "not running inside a logind session",
        ),
        (
            Routes(
                **{
                    "NameHasOwner:org.freedesktop.login1": reply("b", True),
                    "Get": error("org.freedesktop.login1.NoSessionForPID"),
                }
            ),
            "not running inside a logind session",
        ),
        (
            Routes(
                **{
                    "NameHasOwner:org.freedesktop.login1": reply("b", True),
                    "Get": error(UNKNOWN_PROPERTY),
                }
            ),
            "systemd 230",
        ),
    ],
)
def test_logind_constructor_says_what_is_missing(
    scripted_bus: Callable[[Routes], ScriptedConnection], routes: Routes, message: str
) -> None:
    conn = scripted_bus(routes)
    with pytest.raises(BackendError, match=message) as raised:
        LogindLockState(NO_BUS, env={})
    assert raised.value.hint
    assert conn.closed


def test_logind_locked_reads_or_returns_none(
    scripted_bus: Callable[[Routes], ScriptedConnection],
) -> None:
    routes = Routes(
        **{"NameHasOwner:org.freedesktop.login1": reply("b", True), "Get": reply("v", ("b", False))}
    )
    conn = scripted_bus(routes)
    backend = LogindLockState(NO_BUS, env={})
    routes.answers["Get"] = reply("v", ("b", True))
    assert backend.locked() is True
    assert conn.sent[-1].body == ("org.freedesktop.login1.Session", "LockedHint")
    assert conn.sent[-1].header.fields[HeaderFields.path] == "/org/freedesktop/login1/session/auto"
    routes.answers["Get"] = raising(TimeoutError())
    assert backend.locked() is None
    routes.answers["Get"] = error(SERVICE_UNKNOWN)
    assert backend.locked() is None
    routes.answers["Get"] = raising(BrokenPipeError(32, "pipe"))
    with pytest.raises(BackendError, match="system D-Bus"):
        backend.locked()
    backend.close()
    assert conn.closed
