"""wlr-foreign-toplevel: the protocol's state machine (properties applied at `done`)."""

from __future__ import annotations

import array
from pathlib import Path

from presence.platform.base import Session
from presence.platform.wlr_toplevel import (
    ACTIVATED,
    ToplevelTracker,
    WlrForeignToplevelWindowSource,
    WlrToplevelAppController,
    states_of,
)

MAXIMIZED = 0


def _announce(tracker: ToplevelTracker, key: int, app_id: str, title: str, *states: int) -> None:
    tracker.new(key)
    tracker.app_id(key, app_id)
    tracker.title(key, title)
    tracker.state(key, states)
    tracker.done(key)


def _focus(tracker: ToplevelTracker) -> tuple[str | None, str | None] | None:
    top = tracker.focused()
    return None if top is None else (top.app_id, top.title)


def test_properties_apply_at_done() -> None:
    tracker = ToplevelTracker()
    tracker.new(1)
    tracker.app_id(1, "foot")
    tracker.title(1, "shell")
    tracker.state(1, [ACTIVATED])
    assert tracker.toplevels() == []  # not listed before its first done
    assert tracker.focused() is None
    tracker.done(1)
    focused = tracker.focused()
    assert focused is not None
    assert (focused.app_id, focused.title) == ("foot", "shell")


def test_title_change_waits_for_done() -> None:
    tracker = ToplevelTracker()
    _announce(tracker, 1, "foot", "old", ACTIVATED)
    tracker.title(1, "new")
    assert _focus(tracker) == ("foot", "old")
    tracker.done(1)
    assert _focus(tracker) == ("foot", "new")


def test_focus_moves_between_toplevels() -> None:
    tracker = ToplevelTracker()
    _announce(tracker, 1, "alpha", "A", ACTIVATED)
    _announce(tracker, 2, "beta", "B")
    assert _focus(tracker) == ("alpha", "A")
    # The compositor deactivates the old window, then activates the new one.
    tracker.state(1, [MAXIMIZED])
    tracker.done(1)
    assert tracker.focused() is None
    tracker.state(2, [ACTIVATED, MAXIMIZED])
    tracker.done(2)
    assert _focus(tracker) == ("beta", "B")
    assert [t.app_id for t in tracker.toplevels()] == ["alpha", "beta"]


def test_state_omitted_keeps_the_previous_one() -> None:
    tracker = ToplevelTracker()
    _announce(tracker, 1, "alpha", "A", ACTIVATED)
    tracker.title(1, "A2")
    tracker.done(1)  # a done without a state event: still activated
    assert _focus(tracker) == ("alpha", "A2")


def test_latest_activated_wins_when_several_are() -> None:
    tracker = ToplevelTracker()
    _announce(tracker, 1, "alpha", "A", ACTIVATED)
    _announce(tracker, 2, "beta", "B", ACTIVATED)  # a second seat's focus
    assert _focus(tracker) == ("beta", "B")
    tracker.closed(2)
    assert _focus(tracker) == ("alpha", "A")


def test_closed_is_forgotten() -> None:
    tracker = ToplevelTracker()
    _announce(tracker, 1, "alpha", "A", ACTIVATED)
    tracker.title(1, "pending")
    tracker.closed(1)
    assert tracker.focused() is None
    assert tracker.toplevels() == []
    tracker.closed(1)  # twice is harmless


def test_toplevels_are_copies() -> None:
    tracker = ToplevelTracker()
    _announce(tracker, 1, "alpha", "A")
    (copy,) = tracker.toplevels()
    copy.title = "changed"
    assert tracker.toplevels()[0].title == "A"


def test_states_array() -> None:
    assert states_of(array.array("I", [MAXIMIZED, ACTIVATED]).tobytes()) == [0, ACTIVATED]
    assert states_of(b"") == []
    assert states_of(array.array("I", [ACTIVATED]).tobytes() + b"\x01") == [ACTIVATED]


def test_probes_need_a_compositor(tmp_path: Path) -> None:
    for backend in (WlrForeignToplevelWindowSource, WlrToplevelAppController):
        assert not backend.probe(Session(None, None, None, None, str(tmp_path))).ok
        probe = backend.probe(Session(None, "wayland-9", "wayland", None, str(tmp_path)))
        assert not probe.ok
        assert "wayland-9" in probe.reason
