"""Knowing a Wayland session: the X11 backends step aside unless forced, and say what works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from presence.health import doctor
from presence.platform import selection
from presence.platform.app_control import X11AppController
from presence.platform.base import Probe, Session
from presence.platform.pynput_input import PynputInputCounter
from presence.platform.x11_display import XWAYLAND_REASON
from presence.platform.x11_idle import XScreenSaverIdle
from presence.platform.x11_window import X11WindowSource
from presence.settings.files import Paths
from presence.settings.schema import Settings

X11_BACKENDS: list[Any] = [X11WindowSource, XScreenSaverIdle, PynputInputCounter, X11AppController]


def wayland(**env: str) -> Session:
    base = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-1", "XDG_SESSION_TYPE": "wayland"}
    return Session.from_env({**base, **env})


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"XDG_SESSION_TYPE": "wayland"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "tty"}, True),  # sway from a tty
        ({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "x11"}, False),  # nested
        ({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}, False),
        ({}, False),
    ],
)
def test_a_wayland_session_is_known_from_its_environment(
    env: dict[str, str], expected: bool
) -> None:
    assert Session.from_env(env).is_wayland is expected


@pytest.mark.parametrize(
    ("env", "compositor"),
    [
        ({"SWAYSOCK": "/run/user/1/sway-ipc.sock"}, "sway"),
        ({"I3SOCK": "/run/user/1/i3/ipc-socket.1"}, "sway"),  # i3 speaks the same IPC
        ({"HYPRLAND_INSTANCE_SIGNATURE": "abc_1_2"}, "hyprland"),
        ({"XDG_CURRENT_DESKTOP": "KDE"}, "kwin"),
        ({"XDG_CURRENT_DESKTOP": "ubuntu:GNOME"}, "gnome"),
        ({"XDG_CURRENT_DESKTOP": "labwc:wlroots"}, None),
    ],
)
def test_the_compositor_is_named_by_the_session(env: dict[str, str], compositor: str) -> None:
    assert wayland(**env).compositor == compositor


@pytest.mark.parametrize("backend", X11_BACKENDS, ids=lambda cls: cls.__name__)
def test_x11_backends_step_aside_in_a_wayland_session(backend: Any) -> None:
    probe: Probe = backend.probe(wayland(SWAYSOCK="/nowhere"))
    assert not probe.ok
    assert probe.reason == XWAYLAND_REASON
    assert probe.forceable
    assert probe.hint


def test_the_window_hint_names_the_backend_for_this_compositor() -> None:
    assert "sway" in X11WindowSource.probe(wayland(SWAYSOCK="/s")).hint
    assert "kwin" in X11WindowSource.probe(wayland(XDG_CURRENT_DESKTOP="KDE")).hint
    assert "gnome" in X11WindowSource.probe(wayland(XDG_CURRENT_DESKTOP="GNOME")).hint


def test_without_xwayland_the_rejection_is_not_forceable() -> None:
    session = Session.from_env({"WAYLAND_DISPLAY": "wayland-1", "SWAYSOCK": "/s"})
    probe = X11WindowSource.probe(session)
    assert not probe.ok and not probe.forceable
    assert "sway" in probe.hint


def test_an_x11_session_still_passes() -> None:
    session = Session.from_env({"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"})
    assert X11WindowSource.probe(session).ok


class _Advisory:
    """A candidate whose probe rejects it only advisorily."""

    @classmethod
    def probe(cls, session: Session) -> Probe:
        return Probe.no("advisory", "use the other", forceable=True)

    def __init__(self, session: Session) -> None:
        self.session = session


class _Firm(_Advisory):
    @classmethod
    def probe(cls, session: Session) -> Probe:
        return Probe.no("firm", "cannot")


def _candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        selection.CANDIDATES,
        "window",
        [("adv", f"{__name__}:_Advisory"), ("firm", f"{__name__}:_Firm")],
    )


def test_auto_choice_skips_an_advisory_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    _candidates(monkeypatch)
    choice = selection.choose("window", wayland(), env={})
    assert choice.backend is None
    assert [(r.name, r.reason) for r in choice.rejected] == [("adv", "advisory"), ("firm", "firm")]


def test_forcing_by_name_overrides_an_advisory_rejection(monkeypatch: pytest.MonkeyPatch) -> None:
    _candidates(monkeypatch)
    choice = selection.choose("window", wayland(), env={"PRESENCE_BACKEND_WINDOW": "adv"})
    assert choice.name == "adv"
    assert choice.forced_by == "PRESENCE_BACKEND_WINDOW"
    choice = selection.choose("window", wayland(), configured="adv", env={})
    assert choice.name == "adv"


def test_forcing_by_name_does_not_override_a_firm_rejection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _candidates(monkeypatch)
    choice = selection.choose("window", wayland(), env={"PRESENCE_BACKEND_WINDOW": "firm"})
    assert choice.backend is None
    assert [r.reason for r in choice.rejected] == ["firm"]


def test_doctor_says_why_and_what_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x11_only = [("x11", "presence.platform.x11_window:X11WindowSource")]
    monkeypatch.setitem(selection.CANDIDATES, "window", x11_only)
    monkeypatch.setattr(doctor, "CANDIDATES", {"window": x11_only})
    monkeypatch.delenv("PRESENCE_BACKEND_WINDOW", raising=False)
    session = wayland(SWAYSOCK=str(tmp_path / "no-sway.sock"))
    paths = Paths(tmp_path / "config.toml", tmp_path / "data", tmp_path / "run")
    report = doctor.diagnose(Settings(), paths, session)
    (window,) = report.capabilities
    assert window.backend is None
    (x11,) = window.rejected
    assert x11.reason == XWAYLAND_REASON
    assert "sway" in x11.hint
    assert any("Wayland session (sway)" in note and "x11" in note for note in report.notes)


def test_the_sway_socket_is_found_without_swaysock(tmp_path: Path) -> None:
    """A user service often lacks SWAYSOCK: the one live sway's socket in the runtime dir."""
    uid = os.getuid()
    env = {"XDG_RUNTIME_DIR": str(tmp_path), "WAYLAND_DISPLAY": "wayland-1"}
    assert Session.from_env(env).sway_socket is None
    dead = tmp_path / f"sway-ipc.{uid}.999999999.sock"  # no such pid
    dead.touch()
    assert Session.from_env(env).sway_socket is None
    live = tmp_path / f"sway-ipc.{uid}.{os.getpid()}.sock"
    live.touch()
    assert Session.from_env(env).sway_socket == str(live)
    assert Session.from_env({**env, "SWAYSOCK": "/given"}).sway_socket == "/given"
    (tmp_path / f"sway-ipc.{uid}.1.sock").touch()  # two live sways: no guessing
    assert Session.from_env(env).sway_socket is None


def test_an_x11_session_does_not_load_pywayland() -> None:
    """Choosing idle and window backends without a Wayland display never imports pywayland (a
    daemon on X11 would carry it all day); the rejection still says why, for doctor."""
    code = (
        "import sys\n"
        "from presence.platform.base import Session\n"
        "from presence.platform.selection import choose\n"
        "session = Session.from_env({'DISPLAY': ':999', 'XDG_SESSION_TYPE': 'x11'})\n"
        "for capability in ('window', 'idle', 'apps'):\n"
        "    choice = choose(capability, session, env={})\n"
        "    why = {r.name: r.reason for r in choice.rejected}\n"
        "    assert 'WAYLAND_DISPLAY is not set' in why.get('wlr', why.get('kde-idle', ''))\n"
        "print(sorted(m for m in sys.modules if m.startswith('pywayland')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
