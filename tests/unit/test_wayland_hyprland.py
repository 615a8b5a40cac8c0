"""The Hyprland window and app backends against Hyprland's IPC served from a transcript.

Hyprland cannot run on these machines (Debian 12 does not package it, and it needs a DRM
render node that the test VMs lack), so these tests serve its IPC protocol from a recorded
transcript (tests/unit/data/hyprland_ipc.transcript, which cites the wiki and hyprctl source
it follows) on real unix sockets: the backends open, write, read and close them as they
would Hyprland's. What this cannot show is that a real Hyprland release still speaks it.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from presence.core.errors import BackendError
from presence.core.model import WindowInfo
from presence.platform.base import AppWindow, Session
from presence.platform.hyprland_apps import HyprlandAppController
from presence.platform.hyprland_window import (
    HyprlandWindowSource,
    parse_event,
    probe_hyprland,
    window_info,
)
from tests.unit.hyprland_fake import FakeHyprland

WAIT = 5.0


@pytest.fixture
def hyprland() -> Iterator[FakeHyprland]:
    # A short directory: unix socket paths are limited to 108 bytes.
    with tempfile.TemporaryDirectory(prefix="hypr") as runtime:
        server = FakeHyprland(Path(runtime))
        try:
            yield server
        finally:
            server.close()


def session_of(server: FakeHyprland) -> Session:
    return Session.from_env(
        {
            "WAYLAND_DISPLAY": "wayland-1",
            "XDG_SESSION_TYPE": "wayland",
            "XDG_RUNTIME_DIR": str(server.dir.parents[1]),
            "HYPRLAND_INSTANCE_SIGNATURE": server.signature,
        }
    )


def test_probe_needs_the_instance_and_its_socket(hyprland: FakeHyprland, tmp_path: Path) -> None:
    assert probe_hyprland(session_of(hyprland)).ok
    assert not probe_hyprland(Session.from_env({"WAYLAND_DISPLAY": "wayland-1"})).ok
    elsewhere = Session.from_env(
        {"XDG_RUNTIME_DIR": str(tmp_path), "HYPRLAND_INSTANCE_SIGNATURE": "gone_1_2"}
    )
    probe = probe_hyprland(elsewhere)
    assert not probe.ok and "gone_1_2" in probe.reason and probe.hint


def test_focus_and_title_follow_the_events(hyprland: FakeHyprland) -> None:
    source = HyprlandWindowSource(session_of(hyprland))
    woken = threading.Semaphore(0)
    try:
        assert source.focused() == WindowInfo("kitty", "~/src/presence", 4242)
        source.watch(woken.release)
        _wait_for(lambda: hyprland.listeners() == 1)

        hyprland.advance()  # switch to firefox
        assert woken.acquire(timeout=WAIT)
        assert source.focused() == WindowInfo("firefox", "Mozilla Firefox", 5151)

        hyprland.advance()  # title change
        assert woken.acquire(timeout=WAIT)
        assert source.focused() == WindowInfo("firefox", "Hyprland Wiki — Mozilla Firefox", 5151)

        hyprland.advance()  # closed: nothing focused
        assert woken.acquire(timeout=WAIT)
        assert source.focused() is None
    finally:
        source.close()
    # One request per connection, as Hyprland wants: every request was seen whole.
    assert hyprland.requests[0] == "j/version"
    assert set(hyprland.requests[1:]) == {"j/activewindow"}


def test_close_stops_the_listener_and_a_dead_instance_is_a_backend_error(
    hyprland: FakeHyprland,
) -> None:
    source = HyprlandWindowSource(session_of(hyprland))
    source.watch(lambda: None)
    _wait_for(lambda: hyprland.listeners() == 1)
    source.close()
    source.close()  # idempotent
    hyprland.close()
    with pytest.raises(BackendError) as raised:
        source.focused()
    assert raised.value.hint


def test_apps_lists_mapped_clients_and_closes_by_address(hyprland: FakeHyprland) -> None:
    apps = HyprlandAppController(session_of(hyprland))
    windows = apps.windows()
    assert [(w.app, w.pid, w.title) for w in windows] == [
        ("kitty", 4242, "~/src/presence"),
        ("firefox", 5151, "Mozilla Firefox"),
    ]
    firefox = windows[1]
    assert firefox.window == 0x55D0C9B4C8A0 and firefox.instance == "firefox"
    apps.close_window(firefox)
    assert hyprland.requests[-1] == "dispatch closewindow address:0x55d0c9b4c8a0"
    # a reply other than "ok" (the window went away) is not an error
    apps.close_window(AppWindow(window=0x1, app="gone", instance=None, pid=None))
    apps.close()


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        (b"activewindowv2>>55d0c9b4c8a0\n", ("activewindowv2", "55d0c9b4c8a0")),
        (b"windowtitlev2>>55d0,a>>b, c\n", ("windowtitlev2", "55d0,a>>b, c")),
        (b"activewindowv2>>\n", ("activewindowv2", "")),
        (b"garbage\n", None),
        (b">>data\n", None),
    ],
)
def test_event_lines(line: bytes, parsed: tuple[str, str] | None) -> None:
    assert parse_event(line) == parsed


def test_client_objects() -> None:
    assert window_info({}) is None
    assert window_info({"address": "0x1", "class": "", "initialClass": "steam", "pid": -1}) == (
        WindowInfo("steam", None, None)
    )


def _wait_for(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
