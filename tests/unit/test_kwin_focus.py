"""The KWin backends' logic without KWin: parsing the script's reports, the null-window debounce,
who may call, one-shot replies, script rendering and the probe. The same code against a real
headless KWin is tested in tests/integration/test_wayland_kwin.py."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    DBusAddress,
    HeaderFields,
    Message,
    MessageType,
    new_method_call,
)

from presence.core.errors import BackendError
from presence.core.model import WindowInfo
from presence.platform.base import Session
from presence.platform.dbus import ACCESS_DENIED, INVALID_ARGS, UNKNOWN_OBJECT
from presence.platform.kwin.scripting import (
    INTERFACE,
    NAME_PREFIX,
    PATH,
    SERVICE,
    ScriptReceiver,
    probe_kwin,
    render,
)
from presence.platform.kwin_apps import OneShotReplies
from presence.platform.kwin_window import FocusState, Reported

KWIN_NAME = ":1.7"
TERMINAL = ("org.kde.konsole", "~ : bash", "4242", "org.kde.konsole", "{aaaa}")
BROWSER = ("firefox", "News — Mozilla Firefox", "77", "firefox", "{bbbb}")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def state(**kwargs: Any) -> tuple[FocusState, FakeClock, list[WindowInfo | None]]:
    clock = FakeClock()
    focus = FocusState(clock=clock, **kwargs)
    seen: list[WindowInfo | None] = []
    focus.wake = lambda: seen.append(focus.focused())
    return focus, clock, seen


# ---- what the script reports --------------------------------------------------------------


def test_a_report_becomes_the_window() -> None:
    assert Reported.parse(TERMINAL).info() == WindowInfo("org.kde.konsole", "~ : bash", 4242)


@pytest.mark.parametrize(
    ("caption", "title"),
    [
        ("notes.txt — Kate <2>", "notes.txt — Kate"),
        ("notes.txt — Kate \u200e<12>", "notes.txt — Kate"),
        ("a <b> c", "a <b> c"),
        ("x<2>", "x<2>"),  # not KWin's suffix: that one has a space before it
        ("", None),
    ],
)
def test_kwins_duplicate_caption_suffix_is_not_part_of_the_title(
    caption: str, title: str | None
) -> None:
    assert Reported.parse(("kate", caption, "1", "", "{x}")).title == title


@pytest.mark.parametrize(
    ("body", "app", "pid"),
    [
        (("", "t", "0", "org.kde.dolphin", "{x}"), "org.kde.dolphin", None),
        (("xterm", "t", "12.0", "", "{x}"), "xterm", 12),
        (("xterm", "t", "not a number", "", "{x}"), "xterm", None),
        (("", "t", "0", "", "{x}"), "unknown", None),
    ],
)
def test_app_and_pid_fall_back(body: tuple[str, ...], app: str, pid: int | None) -> None:
    reported = Reported.parse(body)
    assert (reported.app, reported.pid) == (app, pid)


@pytest.mark.parametrize("body", [(), TERMINAL[:4], (*TERMINAL, "extra"), ("a", 1, "2", "", "")])
def test_a_malformed_report_is_refused(body: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="strings"):
        Reported.parse(body)


# ---- the focus state and its debounce ------------------------------------------------------


def test_activations_wake_the_daemon_once_per_change() -> None:
    focus, _, seen = state()
    assert focus.focused() is None
    focus.on_call("Activated", TERMINAL)
    focus.on_call("Activated", TERMINAL)  # KWin re-reports the same window: no new boundary
    focus.on_call("Activated", BROWSER)
    assert seen == [Reported.parse(TERMINAL).info(), Reported.parse(BROWSER).info()]
    assert focus.reports == 3


def test_the_null_window_between_two_switches_is_never_seen() -> None:
    focus, clock, seen = state()
    focus.on_call("Activated", TERMINAL)
    focus.on_call("Deactivated", ())
    assert focus.deadline() == pytest.approx(clock.now + 0.1)
    clock.now += 0.01
    assert focus.focused() == Reported.parse(TERMINAL).info()  # still the old one meanwhile
    focus.on_call("Activated", BROWSER)
    assert focus.deadline() is None
    clock.now += 1.0
    focus.on_deadline()  # a stale timer firing changes nothing
    assert seen == [Reported.parse(TERMINAL).info(), Reported.parse(BROWSER).info()]


def test_a_null_window_that_lasts_means_nothing_has_focus() -> None:
    focus, clock, seen = state(debounce=0.2)
    focus.on_call("Activated", TERMINAL)
    focus.on_call("Deactivated", ())
    clock.now += 0.1
    focus.on_deadline()  # early: not yet
    assert focus.focused() is not None
    clock.now += 0.15
    focus.on_deadline()
    assert focus.focused() is None
    assert seen[-1] is None
    assert focus.deadline() is None


def test_a_null_window_with_nothing_focused_schedules_nothing() -> None:
    focus, _, seen = state()
    focus.on_call("Deactivated", ())
    assert focus.deadline() is None
    assert seen == []


def test_caption_changes_of_the_focused_window_only() -> None:
    focus, _, seen = state()
    focus.on_call("Activated", TERMINAL)
    renamed = (*TERMINAL[:1], "vim notes.txt", *TERMINAL[2:])
    focus.on_call("CaptionChanged", renamed)
    assert focus.focused() == WindowInfo("org.kde.konsole", "vim notes.txt", 4242)
    focus.on_call("CaptionChanged", (*BROWSER[:1], "other", *BROWSER[2:]))  # not focused
    focus.on_call("Deactivated", ())
    focus.on_call("CaptionChanged", (*TERMINAL[:1], "late", *TERMINAL[2:]))  # losing focus
    assert [w.title if w else None for w in seen] == ["~ : bash", "vim notes.txt"]


@pytest.mark.parametrize(
    ("member", "body"), [("Nonsense", ()), ("Deactivated", ("x",)), ("Activated", ())]
)
def test_unknown_or_malformed_calls_are_refused(member: str, body: tuple[Any, ...]) -> None:
    focus, _, _ = state()
    with pytest.raises(ValueError):
        focus.on_call(member, body)


def test_kwin_leaving_clears_the_window_and_a_new_kwin_gets_the_script_again() -> None:
    reloads: list[bool] = []
    focus, _, seen = state(reload=lambda: reloads.append(True))
    focus.on_call("Activated", TERMINAL)
    focus.on_kwin_owner(None)
    assert focus.focused() is None
    assert seen[-1] is None
    assert reloads == []
    focus.on_kwin_owner(":1.99")
    assert reloads == [True]


def test_a_lost_connection_is_a_backend_error() -> None:
    focus, _, _ = state()
    focus.on_call("Activated", TERMINAL)
    woken: list[bool] = []
    focus.wake = lambda: woken.append(True)
    focus.on_lost("connection reset")
    assert woken == [True]  # the daemon reads at once and learns of the loss
    with pytest.raises(BackendError, match="connection reset") as raised:
        focus.focused()
    assert raised.value.hint


# ---- who may call --------------------------------------------------------------------------


class Sent:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    def send(self, msg: Message) -> None:
        self.messages.append(msg)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def on_call(self, member: str, body: tuple[Any, ...]) -> None:
        if member == "Bad":
            raise ValueError("bad arguments")
        self.calls.append((member, body))


def receiver() -> tuple[ScriptReceiver, Recorder, Sent]:
    # The dispatching logic alone: no connection, no thread.
    recv = ScriptReceiver.__new__(ScriptReceiver)
    sink, sent = Recorder(), Sent()
    recv._sink = sink  # type: ignore[assignment]
    recv._listener = sent  # type: ignore[assignment]
    recv._kwin = KWIN_NAME
    return recv, sink, sent


def call(
    member: str, body: tuple[Any, ...] = (), sender: str = KWIN_NAME, path: str = PATH
) -> Message:
    msg = new_method_call(
        DBusAddress(path, bus_name=SERVICE, interface=INTERFACE),
        member,
        "s" * len(body) or None,
        body,
    )
    msg.header.serial = 5
    msg.header.fields[HeaderFields.sender] = sender
    return msg


def test_kwins_calls_are_handed_on_and_answered() -> None:
    recv, sink, sent = receiver()
    recv._dispatch(call("Activated", TERMINAL))
    assert sink.calls == [("Activated", TERMINAL)]
    assert sent.messages[0].header.message_type is MessageType.method_return


@pytest.mark.parametrize(
    ("msg", "error"),
    [
        (call("Activated", TERMINAL, sender=":1.66"), ACCESS_DENIED),
        (call("Activated", TERMINAL, path="/elsewhere"), UNKNOWN_OBJECT),
        (call("Bad", ("x",)), INVALID_ARGS),
    ],
)
def test_other_callers_and_bad_calls_get_an_error(msg: Message, error: str) -> None:
    recv, sink, sent = receiver()
    recv._dispatch(msg)
    assert sink.calls == []
    reply = sent.messages[0]
    assert reply.header.message_type is MessageType.error
    assert reply.header.fields[HeaderFields.error_name] == error


def test_without_kwin_on_the_bus_nobody_may_call() -> None:
    recv, sink, sent = receiver()
    recv._kwin = None
    recv._dispatch(call("Activated", TERMINAL))
    assert sink.calls == []
    assert sent.messages[0].header.fields[HeaderFields.error_name] == ACCESS_DENIED


# ---- one-shot replies ----------------------------------------------------------------------


def test_one_shot_rows_arrive_until_done() -> None:
    replies = OneShotReplies()
    replies.expect("t1")
    replies.on_call("Window", ("t1", "xterm", "xterm", "title", "12", "{c}"))
    replies.on_call("Window", ("other", "x", "x", "x", "1", "{d}"))  # an expired request
    replies.on_call("Done", ("t1", "1"))
    assert replies.wait("t1", 1.0) == [("xterm", "xterm", "title", "12", "{c}")]


def test_one_shot_without_done_is_none_and_late_reports_are_dropped() -> None:
    replies = OneShotReplies()
    replies.expect("t2")
    assert replies.wait("t2", 0.01) is None
    replies.on_call("Done", ("t2", "0"))  # too late: ignored, not an error


def test_one_shot_done_from_another_thread_wakes_the_waiter() -> None:
    replies = OneShotReplies()
    replies.expect("t3")
    threading.Timer(0.05, replies.on_call, ("Done", ("t3", "0"))).start()
    assert replies.wait("t3", 10.0) == []


@pytest.mark.parametrize(
    ("member", "body"), [("Window", ("t", "x")), ("Other", ("t",)), ("Done", ()), ("Done", (1,))]
)
def test_one_shot_malformed_reports_are_refused(member: str, body: tuple[Any, ...]) -> None:
    replies = OneShotReplies()
    replies.expect("t")
    with pytest.raises(ValueError):
        replies.on_call(member, body)


# ---- scripts and the probe -----------------------------------------------------------------


def test_scripts_get_their_values_as_json_literals() -> None:
    tricky = 'x"); callDBus("evil'
    source = render(
        "close.js",
        {"SERVICE": SERVICE, "PATH": PATH, "INTERFACE": INTERFACE, "TOKEN": "t", "TARGET": tricky},
    )
    assert json.dumps(tricky) in source
    assert "__" not in source.replace("__proto__", "")


def test_the_focus_script_speaks_both_kwin_generations() -> None:
    source = render("focus.js", {"SERVICE": SERVICE, "PATH": PATH, "INTERFACE": INTERFACE})
    assert "workspace.windowActivated" in source  # KWin 6
    assert "workspace.clientActivated" in source  # KWin 5
    assert SERVICE.startswith(NAME_PREFIX)


def session(tmp_path: Any, **env: str) -> Session:
    sock = tmp_path / "bus"
    sock.touch()
    return Session.from_env({"DBUS_SESSION_BUS_ADDRESS": f"unix:path={sock}", **env})


def test_probe_wants_a_session_bus(tmp_path: Any) -> None:
    probe = probe_kwin(Session.from_env({}))
    assert not probe.ok
    assert probe.hint


def test_probe_steps_aside_for_another_compositor_unless_forced(tmp_path: Any) -> None:
    probe = probe_kwin(session(tmp_path, XDG_CURRENT_DESKTOP="GNOME"))
    assert not probe.ok
    assert probe.forceable
    assert "gnome" in probe.reason


@pytest.mark.parametrize("desktop", ["KDE", ""])
def test_probe_passes_on_kde_or_an_unnamed_desktop(tmp_path: Any, desktop: str) -> None:
    assert probe_kwin(session(tmp_path, XDG_CURRENT_DESKTOP=desktop)).ok
