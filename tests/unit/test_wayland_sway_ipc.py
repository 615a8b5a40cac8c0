"""The i3/sway IPC client, reading sway's tree, and the screen-locker lock state (no compositor)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from presence.core.errors import BackendError
from presence.platform.base import Session
from presence.platform.i3_ipc import (
    GET_TREE,
    WINDOW_EVENT,
    WORKSPACE_EVENT,
    I3Connection,
    IpcError,
    focused_view,
    view_app,
    views,
)
from presence.platform.locker_process import ProcessLockState
from presence.platform.sway_window import SwayWindowSource, _is_change, probe_socket


def view(con_id: int, focused: bool = False, **extra: Any) -> dict[str, Any]:
    return {"id": con_id, "type": "con", "focused": focused, "nodes": [], **extra}


def tree(
    *workspace_nodes: dict[str, Any],
    floating: list[dict[str, Any]] | None = None,
    workspace_focused: bool = False,
) -> dict[str, Any]:
    workspace = {
        "id": 3,
        "type": "workspace",
        "focused": workspace_focused,
        "nodes": list(workspace_nodes),
        "floating_nodes": floating or [],
    }
    output = {"id": 2, "type": "output", "nodes": [workspace], "focused": False}
    return {"id": 1, "type": "root", "nodes": [output], "focused": False}


NATIVE = view(10, app_id="foot", name="~ - foot", pid=100)
XWAYLAND = view(
    11,
    app_id=None,
    name="Xterm",
    pid=101,
    window=4194317,
    window_properties={"class": "XTerm", "instance": "xterm"},
)


def test_the_focused_native_view() -> None:
    t = tree({**NATIVE, "focused": True}, XWAYLAND)
    node = focused_view(t)
    assert node is not None and view_app(node) == "foot" and node["pid"] == 100


def test_an_xwayland_view_is_named_by_its_class() -> None:
    t = tree(NATIVE, floating=[{**XWAYLAND, "type": "floating_con", "focused": True}])
    node = focused_view(t)
    assert node is not None and view_app(node) == "XTerm"
    assert [v["id"] for v in views(t)] == [10, 11]


def test_a_split_container_holding_views_is_not_one() -> None:
    split = {"id": 20, "type": "con", "nodes": [NATIVE, XWAYLAND], "focused": False}
    assert [v["id"] for v in views(tree(split))] == [10, 11]


@pytest.mark.parametrize(
    "t",
    [
        tree(NATIVE, workspace_focused=True),  # focus on an empty part of a workspace
        tree(NATIVE),  # nothing focused at all: swaylock holds the screen
        {"id": 1, "type": "root", "nodes": [], "focused": True},
    ],
)
def test_no_focused_view(t: dict[str, Any]) -> None:
    assert focused_view(t) is None


@pytest.mark.parametrize(
    ("kind", "change", "wakes"),
    [
        (WINDOW_EVENT, "focus", True),
        (WINDOW_EVENT, "title", True),
        (WINDOW_EVENT, "close", True),
        (WINDOW_EVENT, "mark", False),
        (WINDOW_EVENT, "urgent", False),
        (WORKSPACE_EVENT, "focus", True),
        (WORKSPACE_EVENT, "rename", False),
    ],
)
def test_which_events_wake_the_sampler(kind: int, change: str, wakes: bool) -> None:
    assert _is_change(kind, {"change": change}) is wakes


# -- the wire format, on a real socket ---------------------------------------------------------

HEADER = struct.Struct("=6sII")


def _reply(conn: socket.socket, kind: int, body: Any) -> None:
    data = json.dumps(body).encode()
    conn.sendall(HEADER.pack(b"i3-ipc", len(data), kind) + data)


@pytest.fixture
def ipc_server(tmp_path: Path) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """A one-connection server answering GET_VERSION and GET_TREE as sway does."""
    path = str(tmp_path / "ipc.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    seen: list[tuple[int, str]] = []

    def serve() -> None:
        conn, _ = server.accept()
        with conn, contextlib.suppress(OSError):  # the client may hang up mid-reply
            while header := conn.recv(HEADER.size):
                _, length, kind = HEADER.unpack(header)
                payload = conn.recv(length).decode() if length else ""
                seen.append((kind, payload))
                if kind == 7:
                    _reply(conn, kind, {"major": 1, "minor": 7, "human_readable": "1.7"})
                elif kind == GET_TREE:
                    _reply(conn, kind, tree({**NATIVE, "focused": True}))
                else:
                    conn.sendall(b"garbage-not-the-protocol")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, seen
    server.close()
    thread.join(2)


def test_the_window_source_over_a_socket(ipc_server: tuple[str, list[tuple[int, str]]]) -> None:
    path, seen = ipc_server
    session = Session.from_env({"SWAYSOCK": path, "WAYLAND_DISPLAY": "wayland-1"})
    assert probe_socket(session).ok
    source = SwayWindowSource(session)
    info = source.focused()
    assert info is not None and (info.app, info.title, info.pid) == ("foot", "~ - foot", 100)
    assert seen == [(7, ""), (GET_TREE, "")]
    source.close()
    with pytest.raises(BackendError):
        source.focused()


def test_garbage_is_an_ipc_error(ipc_server: tuple[str, list[tuple[int, str]]]) -> None:
    conn = I3Connection(ipc_server[0])
    with pytest.raises(IpcError):
        conn.request(99)
    conn.close()


def test_probe_without_a_socket(tmp_path: Path) -> None:
    assert not probe_socket(Session.from_env({})).ok
    probe = probe_socket(Session.from_env({"SWAYSOCK": str(tmp_path / "gone.sock")}))
    assert not probe.ok and probe.hint
    (tmp_path / "file").write_text("")
    assert not probe_socket(Session.from_env({"I3SOCK": str(tmp_path / "file")})).ok


# -- a screen locker in the process table ------------------------------------------------------


def fake_proc(root: Path, processes: dict[int, tuple[str, str]]) -> Path:
    """A /proc with `pid -> (comm, state)` entries owned by this user."""
    (root / "self").mkdir(parents=True)
    (root / "self" / "comm").write_text("python\n")
    for pid, (comm, state) in processes.items():
        (root / str(pid)).mkdir()
        (root / str(pid) / "stat").write_text(f"{pid} ({comm}) {state} 1 {pid} {pid} 0 -1\n")
    return root


SWAY = Session.from_env({"WAYLAND_DISPLAY": "wayland-1", "SWAYSOCK": "/run/sway.sock"})


def test_a_running_locker_is_locked(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {10: ("sway", "S"), 11: ("foot", "S")})
    state = ProcessLockState(SWAY, proc=proc)
    assert state.locked() is False
    (proc / "12").mkdir()
    (proc / "12" / "stat").write_text("12 (swaylock) S 1 12 12 0 -1\n")
    assert state.locked() is True
    assert state.locked() is True  # the remembered pid answers first
    (proc / "12" / "stat").write_text("12 (swaylock) Z 1 12 12 0 -1\n")  # exited, not reaped
    assert state.locked() is False


def test_names_with_parentheses_and_other_users(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {20: ("x) (swaylock", "S"), 21: ("hyprlock", "S")})
    assert ProcessLockState(SWAY, proc=proc).locked() is True  # hyprlock
    assert ProcessLockState(SWAY, proc=proc, uid=os.getuid() + 1).locked() is False


@pytest.mark.parametrize(
    ("env", "ok"),
    [
        ({"WAYLAND_DISPLAY": "wayland-1", "SWAYSOCK": "/s"}, True),
        ({"WAYLAND_DISPLAY": "wayland-1", "HYPRLAND_INSTANCE_SIGNATURE": "a"}, True),
        ({"WAYLAND_DISPLAY": "wayland-1", "XDG_CURRENT_DESKTOP": "labwc:wlroots"}, True),
        ({"WAYLAND_DISPLAY": "wayland-1", "XDG_CURRENT_DESKTOP": "KDE"}, False),
        ({"WAYLAND_DISPLAY": "wayland-1", "XDG_CURRENT_DESKTOP": "GNOME"}, False),
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, False),
    ],
)
def test_the_locker_probe_is_for_wayland_sessions_without_a_lock_interface(
    env: dict[str, str], ok: bool, tmp_path: Path
) -> None:
    probe = ProcessLockState.probe(Session.from_env(env), proc=fake_proc(tmp_path, {}))
    assert probe.ok is ok
    assert probe.ok or probe.hint
