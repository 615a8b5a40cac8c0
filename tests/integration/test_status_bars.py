"""`presence status` for status bars, against the real daemon on Xvfb: every format parsed as
its consumer parses it, and `--follow` printing a line when the focus changes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from presence.core.model import SpanState
from tests.integration.daemon_process import DaemonProcess, file_mode, without_bus
from tests.integration.xserver import wait_until

pytestmark = pytest.mark.integration


def status(daemon: DaemonProcess, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "presence", "status", *args],
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout


def focused_app(daemon: DaemonProcess) -> str | None:
    data = json.loads(status(daemon, "--format", "json"))
    return (data.get("current") or {}).get("app")


def test_every_format_from_the_snapshot(x_session: Any, tmp_path: Path) -> None:
    _, alpha = x_session.spawn_xterm("AppAlpha", "alpha window")
    daemon = DaemonProcess(tmp_path, without_bus(x_session.env))
    daemon.start()
    try:
        daemon.wait_for_log("using x11")
        x_session.focus(alpha)
        x_session.type_text("ab")
        wait_until(lambda: focused_app(daemon) == "AppAlpha" or None, "AppAlpha in the status")
        snap = tmp_path / "run" / "presence" / "status.json"
        # (the full command may have answered first: the snapshot follows the second tick)
        wait_until(lambda: snap.exists() or None, "the status snapshot")
        assert file_mode(snap) == 0o600
        for _ in range(4):
            x_session.type_text("ab")
            time.sleep(0.5)
        data = json.loads(status(daemon, "--json"))
        assert data["running"] is True and data["current"]["state"] == "active"
        # today's active time: what the database holds, plus at most the open span's tail
        # not flushed yet (flush_every, 10 s)
        stored = sum(s.seconds for s in daemon.spans() if s.state is SpanState.ACTIVE)
        assert stored - 1.5 <= data["today_active_s"] <= stored + 12

        waybar = json.loads(status(daemon, "--format", "waybar"))  # waybar's `return-type: json`
        assert set(waybar) >= {"text", "tooltip", "class"}
        assert "AppAlpha" in waybar["tooltip"] and waybar["class"] == "recording"
        assert waybar["text"].endswith("m")  # today's active time, e.g. "0m"

        # i3blocks: full text, short text, colour (empty: the default)
        full, short, colour = status(daemon, "--format", "i3blocks").split("\n")[:3]
        assert full == waybar["text"] and short == full and colour == ""

        polybar = status(daemon, "--format", "polybar")
        assert polybar.count("\n") == 1 and polybar.strip() == waybar["text"]

        text = status(daemon)
        assert "presence is recording" in text and "now: AppAlpha (active)" in text
        # the full command (`--debug` skips the fast path) says what it can enforce the same way
        full = subprocess.run(
            [sys.executable, "-m", "presence", "--debug", "status"], env=daemon.env,
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        said = [line for line in full.splitlines() if line.startswith("enforcement: ")]
        ours = [line for line in text.splitlines() if line.startswith("enforcement: ")]
        assert said and ours and ours[0].startswith(said[0])  # rich wraps it at 80 columns

        assert daemon.stop(signal.SIGTERM) == 0
        assert not snap.exists()  # it goes with the daemon
        stopped = json.loads(status(daemon, "--format", "waybar"))
        assert stopped["class"] == "stopped"
    finally:
        daemon.kill()


def test_follow_prints_a_line_per_change(x_session: Any, tmp_path: Path) -> None:
    _, alpha = x_session.spawn_xterm("AppAlpha", "alpha window")
    _, beta = x_session.spawn_xterm("AppBeta", "beta window")
    daemon = DaemonProcess(tmp_path, without_bus(x_session.env))
    daemon.start()
    follower = None
    try:
        daemon.wait_for_log("using x11")
        x_session.focus(alpha)
        # the snapshot (what --follow reads) says so: `status --format json` may answer from
        # the database before the daemon's first snapshot is written, on a loaded machine
        wait_until(
            lambda: (
                "AppAlpha" in json.loads(status(daemon, "--format", "waybar"))["tooltip"] or None
            ),
            "AppAlpha in the snapshot",
        )
        follower = subprocess.Popen(
            [sys.executable, "-m", "presence", "status", "--follow", "--format", "waybar"],
            env=daemon.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())
        assert "AppAlpha" in first["tooltip"]
        x_session.focus(beta)
        started = time.monotonic()
        while True:  # lines until the change shows (today's minutes may tick over first)
            line = json.loads(follower.stdout.readline())
            assert time.monotonic() - started < 20
            if "now: AppBeta" in line["tooltip"]:
                break
        assert daemon.stop(signal.SIGTERM) == 0
        assert json.loads(follower.stdout.readline())["class"] == "stopped"
    finally:
        if follower is not None:
            follower.terminate()
            follower.wait(10)
        daemon.kill()
