"""The X11 backends' probes and imports, without any display."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from presence.core.errors import BackendError
from presence.platform.base import Session
from presence.platform.pynput_input import PynputInputCounter
from presence.platform.selection import CANDIDATES
from presence.platform.x11_idle import XScreenSaverIdle
from presence.platform.x11_window import X11WindowSource

BACKENDS: list[Any] = [X11WindowSource, XScreenSaverIdle, PynputInputCounter]
ROOT = Path(__file__).resolve().parents[2]
NOWHERE = ":4321"  # no server listens here; a probe that connected would notice


def session(display: str | None) -> Session:
    return Session(
        x11_display=display,
        wayland_display=None,
        session_type="x11" if display else "tty",
        session_bus=None,
        runtime_dir=None,
    )


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda cls: cls.__name__)
def test_probe_without_a_display_says_why_and_what_to_do(backend: Any) -> None:
    probe = backend.probe(session(None))
    assert not probe.ok
    assert probe.reason == "no X display"
    assert "DISPLAY" in probe.hint


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda cls: cls.__name__)
def test_probe_with_a_display_passes_without_connecting(backend: Any) -> None:
    probe = backend.probe(session(NOWHERE))
    assert probe.ok
    assert NOWHERE in probe.reason


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda cls: cls.__name__)
def test_constructor_without_a_display_raises_backend_error(backend: Any) -> None:
    with pytest.raises(BackendError) as raised:
        backend(session(None))
    assert raised.value.hint


@pytest.mark.parametrize(
    ("capability", "backend"),
    [("window", X11WindowSource), ("idle", XScreenSaverIdle), ("input", PynputInputCounter)],
)
def test_names_match_the_selection_candidates(capability: str, backend: Any) -> None:
    path = f"{backend.__module__}:{backend.__qualname__}"
    assert (backend.name, path) in CANDIDATES[capability]


def test_counter_refuses_a_session_display_pynput_would_not_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pynput always connects to $DISPLAY; a session naming another display must be refused
    # before anything connects.
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(BackendError, match=r"\$DISPLAY") as raised:
        PynputInputCounter(session(NOWHERE))
    assert raised.value.hint is not None
    assert "DISPLAY" in raised.value.hint


def test_modules_import_without_a_display_and_leave_pynput_unimported() -> None:
    # A fresh interpreter: this one may have imported pynput already.
    code = textwrap.dedent(
        """
        import sys
        import presence.platform.pynput_input
        import presence.platform.x11_idle
        import presence.platform.x11_window
        from presence.platform.base import Session

        assert "pynput" not in sys.modules, "pynput was imported at module import"
        session = Session.from_env()
        for backend in (
            presence.platform.x11_window.X11WindowSource,
            presence.platform.x11_idle.XScreenSaverIdle,
            presence.platform.pynput_input.PynputInputCounter,
        ):
            assert not backend.probe(session).ok
        print("ok")
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
