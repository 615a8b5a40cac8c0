"""The X11 backends against a real Xvfb, openbox, xterm and Tk windows, driven by xdotool."""

from __future__ import annotations

import gc
import statistics
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest

from presence.core.errors import BackendError
from presence.core.model import InputCounts, WindowInfo
from presence.platform.base import Session
from presence.platform.pynput_input import STOP_TIMEOUT, PynputInputCounter
from presence.platform.x11_idle import XScreenSaverIdle
from presence.platform.x11_window import X11WindowSource
from tests.integration.xserver import XServer, XSession, wait_until, x_server

pytestmark = pytest.mark.integration

SECRET = "hunter2-SECRET"


def session_of(env: dict[str, str]) -> Session:
    return Session.from_env(env)


@pytest.fixture
def window_source(x_session: XSession) -> Iterator[X11WindowSource]:
    source = X11WindowSource(session_of(x_session.env))
    yield source
    source.close()


@pytest.fixture
def counter(x_session: XSession, monkeypatch: pytest.MonkeyPatch) -> Iterator[PynputInputCounter]:
    # pynput connects to $DISPLAY; the counter refuses a session whose display differs.
    monkeypatch.setenv("DISPLAY", x_session.display)
    counter = PynputInputCounter(session_of(x_session.env))
    counter.start()
    yield counter
    counter.close()


# -- X11WindowSource -------------------------------------------------------------------------


def test_focused_names_app_title_and_pid_of_xterms_and_tk(
    x_session: XSession, window_source: X11WindowSource
) -> None:
    alpha, alpha_window = x_session.spawn_xterm("AppAlpha", "alpha window")
    beta, beta_window = x_session.spawn_xterm("AppBeta", "beta window")
    tk, tk_window = x_session.spawn_tk("tk window", "TkApp")

    x_session.focus(alpha_window)
    assert window_source.focused() == WindowInfo("AppAlpha", "alpha window", alpha.pid)
    x_session.focus(tk_window)
    # Tk sets no _NET_WM_PID: the pid comes from the X-Resource extension.
    assert window_source.focused() == WindowInfo("TkApp", "tk window", tk.pid)
    x_session.focus(beta_window)
    assert window_source.focused() == WindowInfo("AppBeta", "beta window", beta.pid)
    x_session.focus(alpha_window)
    assert window_source.focused() == WindowInfo("AppAlpha", "alpha window", alpha.pid)


def test_titles_decode_from_every_encoding_clients_use(
    x_session: XSession, window_source: X11WindowSource
) -> None:
    # xterm writes a Latin-1 title as WM_NAME of type STRING and sets no _NET_WM_NAME.
    _, window = x_session.spawn_xterm("AppTitles", "Grüße")
    x_session.focus(window)
    info = window_source.focused()
    assert info is not None
    assert info.title == "Grüße"

    server = x_session.server
    # COMPOUND_TEXT: ISO 8859-5 in GR, then a UTF-8 segment (ESC % G ... ESC % @).
    compound = b"\x1b-L" + "Привет".encode("iso8859-5") + b" \x1b%G" + "日本".encode() + b"\x1b%@!"
    server.set_property(window, "WM_NAME", "COMPOUND_TEXT", compound)
    info = window_source.focused()
    assert info is not None
    assert info.title == "Привет 日本!"

    # EWMH _NET_WM_NAME wins over WM_NAME.
    server.set_property(window, "_NET_WM_NAME", "UTF8_STRING", "ünï ✓ Ω".encode())
    info = window_source.focused()
    assert info is not None
    assert info.title == "ünï ✓ Ω"

    server.delete_property(window, "_NET_WM_NAME")
    server.delete_property(window, "WM_NAME")
    info = window_source.focused()
    assert info is not None
    assert info.title is None
    assert info.app == "AppTitles"


def test_app_falls_back_to_the_process_name_without_wm_class(
    x_session: XSession, window_source: X11WindowSource
) -> None:
    tk, window = x_session.spawn_tk("classless", "TkNoClass")
    x_session.focus(window)
    x_session.server.delete_property(window, "WM_CLASS")
    info = window_source.focused()
    assert info is not None
    assert info.pid == tk.pid
    assert info.app == psutil.Process(tk.pid).name()
    assert info.app.startswith("wish")


def test_a_window_killed_while_focused_gives_none_or_the_next_window(
    x_session: XSession, window_source: X11WindowSource
) -> None:
    survivor, survivor_window = x_session.spawn_xterm("AppSurvivor", "survivor")
    expected_survivor = WindowInfo("AppSurvivor", "survivor", survivor.pid)
    for round_ in range(3):
        victim, victim_window = x_session.spawn_xterm(f"AppVictim{round_}", "victim")
        x_session.focus(victim_window)
        expected_victim = WindowInfo(f"AppVictim{round_}", "victim", victim.pid)
        assert window_source.focused() == expected_victim

        seen: list[WindowInfo | None] = []

        def read_until_gone(
            victim: WindowInfo = expected_victim, seen: list[WindowInfo | None] = seen
        ) -> None:
            # Reads race the server tearing the window down; none may raise.
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                info = window_source.focused()
                seen.append(info)
                if info != victim and len(seen) > 50:
                    break

        reader = threading.Thread(target=read_until_gone)
        reader.start()
        victim.kill()
        victim.wait(30)
        reader.join(30)
        assert not reader.is_alive()

        assert seen, "the reader never ran"
        assert set(seen) <= {expected_victim, expected_survivor, None}
        assert seen[-1] in (expected_survivor, None)
    x_session.focus(survivor_window)
    assert window_source.focused() == expected_survivor


def test_one_read_is_cheap(x_session: XSession, window_source: X11WindowSource) -> None:
    _, window = x_session.spawn_xterm("AppTiming", "timing")
    x_session.focus(window)
    samples = []
    for _ in range(1000):
        start = time.perf_counter()
        window_source.focused()
        samples.append(time.perf_counter() - start)
    median_ms = statistics.median(samples) * 1000
    print(f"X11WindowSource.focused(): median {median_ms:.3f} ms over 1000 calls")
    assert median_ms < 5.0


def test_nothing_is_focused_after_openbox_starts() -> None:
    with x_server() as server:
        # The precondition the test is about: openbox holds the focus on its own check window.
        assert server.input_focus() == server.wm_check
        source = X11WindowSource(session_of(server.env))
        try:
            assert source.focused() is None
        finally:
            source.close()


def test_without_ewmh_the_input_focus_is_walked_to_the_client() -> None:
    with x_server() as server:
        session = XSession(server)
        try:
            proc, client = session.spawn_xterm("AppIcccm", "icccm")
            session.focus(client)
            # A window manager without EWMH: nothing advertises _NET_ACTIVE_WINDOW.
            server.delete_property(server.root, "_NET_SUPPORTED")
            source = X11WindowSource(session_of(server.env))
            expected = WindowInfo("AppIcccm", "icccm", proc.pid)
            try:
                assert source.focused() == expected
                inner = server.children_of(client)
                assert inner, "xterm's top-level should have its text window as a child"
                server.set_input_focus(inner[0])  # walk up from a child of the client
                assert server.input_focus() == inner[0]
                assert source.focused() == expected
                server.set_input_focus(server.root)
                assert source.focused() is None
            finally:
                source.close()
        finally:
            session.close()


def test_without_a_window_manager_the_focus_is_walked_to_the_app() -> None:
    with x_server(window_manager=False) as server:
        session = XSession(server)
        source = X11WindowSource(session_of(server.env))
        try:
            assert source.focused() is None  # focus is PointerRoot on a bare server
            bare, bare_window = session.spawn_xterm("AppBare", "bare")
            session.focus(bare_window)
            # Nobody set WM_STATE: the focused top-level with WM_CLASS is the application.
            assert source.focused() == WindowInfo("AppBare", "bare", bare.pid)

            framed, framed_window = session.spawn_xterm("AppFramed", "framed")
            frame = server.reparent_into_frame(framed_window)
            server.set_input_focus(frame)  # walk down from a frame to the WM_STATE client
            assert source.focused() == WindowInfo("AppFramed", "framed", framed.pid)
        finally:
            source.close()
            session.close()


def test_pid_comes_from_net_wm_pid_without_x_resource() -> None:
    with x_server(disabled_extensions=("X-Resource",)) as server:
        session = XSession(server)
        source = X11WindowSource(session_of(server.env))
        try:
            xterm, xterm_window = session.spawn_xterm("AppNoRes", "no xres")
            _, tk_window = session.spawn_tk("tk no xres", "TkNoRes")
            session.focus(xterm_window)
            assert source.focused() == WindowInfo("AppNoRes", "no xres", xterm.pid)
            # EWMH: the pid is valid on WM_CLIENT_MACHINE only; a forwarded client's is not.
            server.set_property(xterm_window, "WM_CLIENT_MACHINE", "STRING", b"far.example.org")
            assert source.focused() == WindowInfo("AppNoRes", "no xres", None)
            session.focus(tk_window)
            # Tk sets no _NET_WM_PID, and without X-Resource nothing else knows its pid.
            assert source.focused() == WindowInfo("TkNoRes", "tk no xres", None)
        finally:
            source.close()
            session.close()


# -- XScreenSaverIdle ------------------------------------------------------------------------


def test_idle_grows_without_input_and_drops_on_input(x_session: XSession) -> None:
    idle = XScreenSaverIdle(session_of(x_session.env))

    def idle_right_after(action: Callable[[], None]) -> tuple[float, float]:
        # The idle time after an input can be no longer than the time since we sent it; this
        # holds however slow the shared machine is, unlike a fixed "below 1 s".
        start = time.monotonic()
        action()
        value = idle.idle_seconds()
        return value, time.monotonic() - start

    try:
        _, window = x_session.spawn_xterm("AppIdle", "idle")
        x_session.focus(window)
        x_session.move_pointer(300, 300)  # from here on, every move below really moves
        first = idle.idle_seconds()
        wait_until(lambda: idle.idle_seconds() > first + 1.0, "idle to grow without input")
        value, elapsed = idle_right_after(lambda: x_session.move_pointer(340, 320))
        assert value <= elapsed + 0.05
        assert value < 1.0 or elapsed >= 1.0
        wait_until(lambda: idle.idle_seconds() > 1.0, "idle to grow again")
        value, elapsed = idle_right_after(lambda: x_session.key("shift"))
        assert value <= elapsed + 0.05
        assert value < 1.0 or elapsed >= 1.0
    finally:
        idle.close()


def test_idle_costs_one_round_trip(x_session: XSession) -> None:
    idle = XScreenSaverIdle(session_of(x_session.env))
    try:
        samples = []
        for _ in range(1000):
            start = time.perf_counter()
            idle.idle_seconds()
            samples.append(time.perf_counter() - start)
    finally:
        idle.close()
    median_ms = statistics.median(samples) * 1000
    print(f"XScreenSaverIdle.idle_seconds(): median {median_ms:.3f} ms over 1000 calls")
    assert median_ms < 5.0


# -- PynputInputCounter ----------------------------------------------------------------------


def test_counter_counts_keys_clicks_scrolls_and_moves(
    x_session: XSession, counter: PynputInputCounter
) -> None:
    _, window = x_session.spawn_xterm("AppInput", "input")
    x_session.focus(window)
    base = counter.counts()

    x_session.type_text("abcde")
    wait_until(lambda: (counter.counts() - base).keys >= 5, "5 key presses to be counted")
    after_keys = counter.counts()
    assert (after_keys - base).keys == 5  # presses only, not releases
    since = counter.seconds_since_input()
    assert since is not None
    assert since < 5.0

    x_session.click(1)
    wait_until(lambda: (counter.counts() - after_keys).clicks >= 1, "a click to be counted")
    x_session.scroll(down=True, clicks=2)
    x_session.scroll(down=False, clicks=1)
    wait_until(lambda: (counter.counts() - after_keys).scrolls >= 3, "3 scrolls to be counted")
    # Three distinct spots: at least two of the moves go somewhere the pointer was not.
    x_session.move_pointer(50, 60)
    x_session.move_pointer(400, 300)
    x_session.move_pointer(420, 330)
    wait_until(lambda: (counter.counts() - after_keys).moves >= 2, "2 pointer moves to be counted")

    delta = counter.counts() - after_keys
    # The wheel is buttons 4/5 in X11: counted as scrolls, never as clicks.
    assert delta == InputCounts(keys=0, clicks=1, scrolls=3, moves=delta.moves)


def test_counter_reports_no_input_before_the_first_event(
    x_session: XSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", x_session.display)
    counter = PynputInputCounter(session_of(x_session.env))
    try:
        counter.start()
        assert counter.counts() == InputCounts()
        assert counter.seconds_since_input() is None
    finally:
        counter.close()


def _reachable(root: object, limit: int = 20000) -> list[object]:
    """Objects reachable from `root`'s instance data (not through classes, modules or code)."""
    skip = (type, types.ModuleType, types.FunctionType, types.CodeType, types.FrameType)
    seen: set[int] = {id(root)}
    queue: list[object] = [root]
    found: list[object] = []
    while queue and len(found) < limit:
        obj = queue.pop()
        found.append(obj)
        for ref in gc.get_referents(obj):
            if id(ref) not in seen and not isinstance(ref, skip):
                seen.add(id(ref))
                queue.append(ref)
    return found


def test_counter_keeps_counts_and_never_keys(
    x_session: XSession, counter: PynputInputCounter
) -> None:
    _, window = x_session.spawn_xterm("AppPrivacy", "privacy")
    x_session.focus(window)
    before = dict(vars(counter))
    base = counter.counts()

    x_session.type_text(SECRET)
    wait_until(
        lambda: (counter.counts() - base).keys >= len(SECRET), "the secret's keys to be counted"
    )

    after = dict(vars(counter))
    changed = {
        name for name in before.keys() | after.keys() if before.get(name) is not after.get(name)
    }
    assert changed <= {"_keys", "_last_input"}
    assert "_keys" in changed
    assert SECRET not in repr(counter)
    for name, value in after.items():
        assert SECRET not in f"{name}={value!r}"
    texts = [obj for obj in _reachable(counter) if isinstance(obj, str | bytes)]
    assert texts, "the walk should reach the counter's own strings (its display name)"
    for text in texts:
        plain = text.decode("latin-1") if isinstance(text, bytes) else text
        assert "hunter2" not in plain
        assert "SECRET" not in plain


# -- the display going away ------------------------------------------------------------------


def test_a_dead_display_raises_backend_error_and_close_does_not_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with x_server() as server:
        session = XSession(server)
        monkeypatch.setenv("DISPLAY", server.display)
        source = X11WindowSource(session_of(server.env))
        idle = XScreenSaverIdle(session_of(server.env))
        counter = PynputInputCounter(session_of(server.env))
        try:
            counter.start()
            proc, window = session.spawn_xterm("AppDoomed", "doomed")
            session.focus(window)
            session.type_text("ab")
            wait_until(lambda: counter.counts().keys >= 2, "keys to be counted")
            assert source.focused() == WindowInfo("AppDoomed", "doomed", proc.pid)
            counted = counter.counts()

            server.kill_server()

            with pytest.raises(BackendError):
                source.focused()
            with pytest.raises(BackendError):  # and again: no other exception on a retry
                source.focused()
            with pytest.raises(BackendError):
                idle.idle_seconds()
            wait_until(lambda: not _listeners_alive(counter), "the listeners to end", 10)
            assert counter.counts() == counted
            start = time.monotonic()
            counter.close()
            assert time.monotonic() - start < 2 * STOP_TIMEOUT + 1
        finally:
            counter.close()
            idle.close()
            source.close()
            session.close()


def _listeners_alive(counter: Any) -> bool:
    # Private on purpose: the test checks the listener threads do end with the display.
    return any(listener.is_alive() for listener in counter._listeners)


def test_constructors_raise_backend_error_for_an_unreachable_display(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with x_server(window_manager=False) as server:
        env = dict(server.env)
        server.kill_server()
    monkeypatch.setenv("DISPLAY", env["DISPLAY"])
    for backend in (X11WindowSource, XScreenSaverIdle, PynputInputCounter):
        with pytest.raises(BackendError) as raised:
            backend(session_of(env))
        assert raised.value.hint


def test_counter_refuses_a_display_other_than_pynputs(
    x_display: XServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":4242")
    with pytest.raises(BackendError, match="DISPLAY"):
        PynputInputCounter(session_of(x_display.env))


def test_closing_the_counter_as_the_display_dies_does_not_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with x_server(window_manager=False) as server:
        monkeypatch.setenv("DISPLAY", server.display)
        counter = PynputInputCounter(session_of(server.env))
        try:
            counter.start()
            assert _listeners_alive(counter)
            server.kill_server()
            start = time.monotonic()
            counter.close()  # the listeners may be anywhere in dying: bounded either way
            assert time.monotonic() - start < 2 * 2 * STOP_TIMEOUT + 1
            assert counter.counts() == InputCounts()
        finally:
            counter.close()
