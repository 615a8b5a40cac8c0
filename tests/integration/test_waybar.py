"""waybar, for real, reading `presence status --follow --format waybar` in a headless sway.

The module is the one docs/status-bars.md gives (`custom/presence`, `exec` without
`interval`, `return-type: json`) with the checkout's own `presence` entry point, and the
stylesheet is the documented one. waybar runs as the desktop test user next to the real
daemon (UserDaemonProcess). waybar 0.9's debug log does not show what a custom module
received, so the proof that it consumed the stream is what it drew: `grim` (wlroots
screencopy) captures the bar; the text is drawn white while recording, and in the documented
tech-free amber once a tech-free window comes into force (the stream's `class`), wider (the
stream's `text` grew by the window's name and end).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.integration.components import require
from tests.integration.daemon_process import window_now
from tests.integration.wayland_sway import SwayServer, UserDaemonProcess
from tests.integration.xserver import wait_until

pytestmark = pytest.mark.integration

CONFIG = '[device]\nname = "barbox"\n[reports]\ntimezone = "UTC"\n'
PRESENCE = Path(sys.executable).parent / "presence"  # the checkout's venv entry point
NO_SYSTEM_BUS = "unix:path=/nonexistent/presence-test-system-bus"
HEIGHT = 24  # the bar's height in pixels, at the top of sway's 1280x800 output

# The documented stylesheet (docs/status-bars.md), after a black bar with white text.
STYLE = """\
* { font-family: monospace; font-size: 14px; border: none; }
window#waybar { background: #000000; }
#custom-presence { color: #ffffff; }
#custom-presence.tech-free, #custom-presence.warning { color: #e5a50a; }
#custom-presence.paused, #custom-presence.idle, #custom-presence.stopped { color: #9a9996; }
"""


def waybar_config() -> str:
    """The documented module (without its "⏱ " prefix: no font for it is needed here)."""
    module = {
        "exec": f"{PRESENCE} status --follow --format waybar",
        "return-type": "json",
        "format": "{}",
        "tooltip": True,
    }
    return json.dumps(
        {"layer": "top", "position": "top", "height": HEIGHT,
         "modules-center": ["custom/presence"], "custom/presence": module}
    )  # fmt: skip


@dataclass(frozen=True)
class Ink:
    """What the bar shows: the columns holding white text and amber text (none: -1, -1)."""

    white: tuple[int, int]
    amber: tuple[int, int]

    @property
    def white_width(self) -> int:
        return self.white[1] - self.white[0] + 1 if self.white[0] >= 0 else 0

    @property
    def amber_width(self) -> int:
        return self.amber[1] - self.amber[0] + 1 if self.amber[0] >= 0 else 0


def read_ppm(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGB bytes) of a binary PPM (P6, maxval 255) as grim writes it."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P6" and fields[3] == b"255", fields
    return int(fields[1]), int(fields[2]), data[pos + 1 :]


def ink(ppm: bytes) -> Ink:
    """Classify the bar's pixels: near white (all channels >= 200), or amber (#e5a50a and
    its antialiased shades on black: red clearly above green above blue)."""
    width, height, rgb = read_ppm(ppm)
    white = [width, -1]
    amber = [width, -1]
    for y in range(height):
        row = rgb[3 * width * y : 3 * width * (y + 1)]
        for x in range(width):
            r, g, b = row[3 * x], row[3 * x + 1], row[3 * x + 2]
            if r >= 200 and g >= 200 and b >= 200:
                white[0], white[1] = min(white[0], x), max(white[1], x)
            elif r >= 120 and r > g * 1.2 and g > b * 2:
                amber[0], amber[1] = min(amber[0], x), max(amber[1], x)
    return Ink(
        (white[0], white[1]) if white[1] >= 0 else (-1, -1),
        (amber[0], amber[1]) if amber[1] >= 0 else (-1, -1),
    )


def shot(sway: SwayServer, path: Path) -> Ink:
    """Capture the bar (grim, as the user) and classify what it shows."""
    done = sway.user.run(
        ["grim", "-t", "ppm", "-g", f"0,0 1280x{HEIGHT}", str(path)], sway.env, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    return ink(path.read_bytes())


def drawn(sway: SwayServer, path: Path, colour: str) -> Ink | None:
    """The bar once it shows text in `colour` ("white" or "amber"), else None."""
    seen = shot(sway, path)
    return seen if (seen.white if colour == "white" else seen.amber)[0] >= 0 else None


def stop_bar(bar: psutil.Process | None, stream: list[psutil.Process]) -> None:
    """End waybar and the `status --follow` it started: waybar runs its exec in a process
    group of its own, which the session's stop does not reach."""
    for proc in ([bar] if bar else []) + stream:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.terminate()
    psutil.wait_procs(([bar] if bar else []) + stream, timeout=5)


def test_waybar_draws_the_follow_stream(sway_session: SwayServer) -> None:
    require("waybar", "grim")
    sway = sway_session
    daemon = UserDaemonProcess(
        sway.user,
        sway.private_dir("daemon"),
        {**sway.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS},
        CONFIG,
    )
    bar_dir = sway.private_dir("waybar")
    (bar_dir / "config").write_text(waybar_config())
    (bar_dir / "style.css").write_text(STYLE)
    log_path = bar_dir / "waybar.log"
    log_path.touch()
    for path in bar_dir.iterdir():
        sway.user.chown(path)
    capture = bar_dir / "bar.ppm"
    daemon.start()
    proc: subprocess.Popen[Any] | None = None
    bar: psutil.Process | None = None
    stream: list[psutil.Process] = []
    try:
        with log_path.open("ab") as log:
            proc = sway.spawn(
                ["waybar", "-l", "debug", "-c", str(bar_dir / "config"),
                 "-s", str(bar_dir / "style.css")],
                env=daemon.env, stdout=log, stderr=log,
            )  # fmt: skip
        bar = psutil.Process(proc.pid)

        def follower() -> list[psutil.Process]:
            return [p for p in bar.children(recursive=True) if "--follow" in p.cmdline()]

        stream = wait_until(follower, "waybar to start `presence status --follow`")
        recording = wait_until(lambda: drawn(sway, capture, "white"), "waybar to draw the text")
        assert recording.amber_width == 0, recording
        first = json.loads(daemon.cli("status", "--format", "waybar").stdout)
        assert "tech-free" not in first["class"]

        added = daemon.cli("rules", "add", "tech-free", "evening", *window_now())
        assert added.returncode == 0, added.stderr
        in_force = wait_until(
            lambda: drawn(sway, capture, "amber"), "the bar to turn tech-free amber"
        )
        after = json.loads(daemon.cli("status", "--format", "waybar").stdout)
        assert "tech-free" in after["class"] and "evening until" in after["text"], after
        assert in_force.white_width == 0, in_force  # all of the text changed colour
        # "0m · evening until HH:MM" is drawn wider than "0m"
        assert in_force.amber_width > recording.white_width + 50, (recording, in_force)
        assert proc.poll() is None, log_path.read_text(errors="replace")
        assert [p.pid for p in follower()] == [p.pid for p in stream]  # one stream, kept
    finally:
        stop_bar(bar, stream)
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
        daemon.stop(signal.SIGTERM)
        daemon.kill()
    assert "Traceback" not in daemon.log()
