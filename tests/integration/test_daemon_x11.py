"""The real daemon on Xvfb + openbox: real xterm windows switched and typed into by xdotool."""

from __future__ import annotations

import itertools
import signal
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from presence.core.model import SpanState
from tests.integration.daemon_process import DaemonProcess, file_mode, without_bus

pytestmark = pytest.mark.integration

SECRET = "hunter2-Zebra-SECRET"


def active_by_app(daemon: DaemonProcess) -> dict[str | None, float]:
    totals: dict[str | None, float] = defaultdict(float)
    for span in daemon.spans():
        if span.state is SpanState.ACTIVE:
            totals[span.app] += span.seconds
    return dict(totals)


def work(x: Any, window: int, seconds: float) -> float:
    """Focus `window` and give input for `seconds`; returns when focus was confirmed."""
    x.focus(window)
    started = time.time()
    while time.time() - started < seconds:
        x.type_text("ab")
        time.sleep(0.5)
    return started


def test_recorded_spans_match_what_was_done(x_session: Any, tmp_path: Path) -> None:
    _, alpha = x_session.spawn_xterm("AppAlpha", "alpha window")
    _, beta = x_session.spawn_xterm("AppBeta", "beta window")
    daemon = DaemonProcess(tmp_path, without_bus(x_session.env), "[sampling]\nidle_after = 5\n")
    daemon.start()
    try:
        daemon.wait_for_log("using xscreensaver")
        daemon.wait_for_log("using x11")
        truth: dict[str, float] = defaultdict(float)
        plan = [(alpha, "AppAlpha", 6), (beta, "AppBeta", 8), (alpha, "AppAlpha", 5)]
        for window, app, seconds in plan:
            start = work(x_session, window, seconds)
            truth[app] += time.time() - start
        beta_start = work(x_session, beta, 3)
        x_session.type_text(SECRET)
        truth["AppBeta"] += time.time() - beta_start
        time.sleep(9)  # no input: idle after 5 s, back-dated to the last key
        end_of_script = time.time()
        time.sleep(1.5)
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    spans = daemon.spans()
    # While openbox moves focus, a tick may see no window at all: that is a span without an
    # app, not a switch. The opening focus may be whatever openbox focused last.
    apps = [
        app
        for app, _ in itertools.groupby(
            s.app for s in spans if s.state is SpanState.ACTIVE and s.app is not None
        )
    ]
    assert apps[-4:] == ["AppAlpha", "AppBeta", "AppAlpha", "AppBeta"], spans
    titles = {s.title for s in spans if s.app == "AppAlpha"}
    assert "alpha window" in titles
    active = active_by_app(daemon)
    assert abs(active["AppAlpha"] - truth["AppAlpha"]) <= 2.0, (active, truth)
    assert abs(active["AppBeta"] - truth["AppBeta"]) <= 2.0, (active, truth)
    idle = [s for s in spans if s.state is SpanState.IDLE]
    assert idle and idle[-1].app == "AppBeta"
    assert idle[-1].end.timestamp() >= end_of_script - 1.5
    for before, after in itertools.pairwise(spans):
        assert before.end <= after.start  # never overlapping
    typed = sum(s.counts.keys for s in spans)
    assert typed >= len(SECRET) + 2 * 10
    data = daemon.data_bytes()
    assert SECRET.encode() not in data
    assert b"Zebra" not in data
    assert file_mode(daemon.db_path) == 0o600
    log = daemon.log()
    assert "alpha window" not in log  # titles only at DEBUG
    assert "Traceback" not in log


def test_kill_9_loses_at_most_ten_seconds(x_session: Any, tmp_path: Path) -> None:
    _, alpha = x_session.spawn_xterm("AppGamma", "gamma")
    daemon = DaemonProcess(tmp_path, without_bus(x_session.env))
    daemon.start()
    try:
        daemon.wait_for_log("using x11")
        work(x_session, alpha, 13)
        killed_at = time.time()
        daemon.kill()
    finally:
        daemon.kill()
    assert daemon.integrity() == "ok"
    spans = daemon.spans()
    assert spans, "nothing was flushed before the kill"
    last = max(s.end.timestamp() for s in spans)
    assert killed_at - last <= 10.0 + 1.5
    # A restart continues the timeline in a new run.
    daemon.start()
    try:
        daemon.wait_for_log("using x11")
        work(x_session, alpha, 3)
        assert daemon.stop(signal.SIGTERM) == 0
    finally:
        daemon.kill()
    assert daemon.integrity() == "ok"
    assert max(s.end.timestamp() for s in daemon.spans()) > killed_at
