"""The real daemon on a headless GNOME Shell (Wayland), run as the desktop test user, with
presence's extension installed by `presence setup gnome`: accuracy of a scripted session, CPU
and memory. Uses the integration tests' GNOME harness (tests/integration/wayland_gnome.py).

- accuracy: a 2-minute session activating weston-terminal, gtk3-demo and gtk3-widget-factory
  windows every 5-30 s at fractional times (seeded), with input (a Mutter RemoteDesktop
  pointer motion) every second or so, then focus parked on a fourth window; each app's
  recorded active time against the script's own clock (the time the shell answered Activate,
  which moves the focus before it answers).
- cost: the daemon at its default 1 s tick for BENCH_COST_SECONDS (default 600) while windows
  switch every 3-15 s and input arrives; CPU sampled every 10 s (median % of one core) and
  peak RSS. Every backend is left on auto, as a GNOME user would run it (gnome window and apps
  backends, mutter idle, screensaver lock).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import statistics
import time
from collections import defaultdict

import psutil

from presence.core.model import SpanState
from tests.integration.desktop_user import desktop_user
from tests.integration.wayland_gnome import GnomeSession, GnomeWindow, start_gnome
from tests.integration.wayland_sway import UserDaemonProcess

APPS = {
    "org.freedesktop.weston.wayland-terminal": ["weston-terminal"],
    "gtk3-demo": ["gtk3-demo"],
    "gtk3-widget-factory": ["gtk3-widget-factory"],
}
PARKING = ("gtk3-icon-browser", ["gtk3-icon-browser"])
CONFIG = '[device]\nname = "gnomebench"\n'


def _windows(gnome: GnomeSession) -> dict[str, GnomeWindow]:
    for argv in [*APPS.values(), PARKING[1]]:
        gnome.spawn(argv)
    return {app: gnome.wait_window(app) for app in [*APPS, PARKING[0]]}


def _daemon(gnome: GnomeSession) -> UserDaemonProcess:
    root = gnome.runtime / "bench-daemon"
    root.mkdir()
    return UserDaemonProcess(gnome.user, root, gnome.env, CONFIG)


def _busy_until(gnome: GnomeSession, until: float, rng: random.Random) -> None:
    """Input now and then (what resets Mutter's idle time) until `until` (time.time())."""
    while (left := until - time.time()) > 0:
        if left > 0.5:
            gnome.poke()
        time.sleep(min(rng.uniform(0.6, 1.4), max(0.0, until - time.time())))


def accuracy(gnome: GnomeSession, minutes: float = 2.0) -> dict[str, float]:
    rng = random.Random(42)
    windows = _windows(gnome)
    daemon = _daemon(gnome)
    daemon.start()
    truth: dict[str, float] = defaultdict(float)
    try:
        daemon.wait_for_log("using gnome")
        # Parked before the plan, once the daemon watches: a window mapped last may take the
        # focus back shortly after it appears, which would count for it before the plan.
        gnome.activate(windows[PARKING[0]])
        time.sleep(1)
        end = time.time() + minutes * 60
        previous: tuple[str, float] | None = None
        while time.time() < end - 1:
            app = rng.choice([a for a in APPS if previous is None or a != previous[0]])
            switched = gnome.activate(windows[app])
            gnome.poke()
            if previous is not None:
                truth[previous[0]] += switched - previous[1]
            previous = (app, switched)
            _busy_until(gnome, min(switched + rng.uniform(5, 30), end), rng)
        parked = gnome.activate(windows[PARKING[0]])
        assert previous is not None
        truth[previous[0]] += parked - previous[1]
        time.sleep(2)
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
    recorded: dict[str, float] = defaultdict(float)
    for span in daemon.spans():
        if span.state is SpanState.ACTIVE and span.app is not None:
            recorded[span.app] += span.seconds
    errors = {app: recorded[app] - truth[app] for app in truth}
    worst = max(abs(e) for e in errors.values())
    for app in sorted(truth):
        print(
            f"accuracy: {app:40s} truth {truth[app]:6.2f} s  recorded {recorded[app]:6.2f} s  "
            f"error {errors[app]:+5.3f} s"
        )
    print(f"accuracy: worst per-app error {worst:.3f} s over {minutes:g} min (target <= 0.25 s)")
    return {"gnome_accuracy_worst_error_s": worst}


def cost(gnome: GnomeSession, seconds: float) -> dict[str, float]:
    rng = random.Random(7)
    windows = list(_windows(gnome).values())
    daemon = _daemon(gnome)
    daemon.start()  # the first start creates the database; the measured run is the second
    daemon.wait_for_log("using gnome")
    daemon.stop(signal.SIGTERM)
    daemon.start()
    assert daemon.proc is not None
    proc = psutil.Process(daemon.proc.pid)
    cpu: list[float] = []
    rss: list[int] = []
    try:
        daemon.wait_for_log("using gnome")
        time.sleep(3)  # start-up is not the steady state
        proc.cpu_percent(None)
        deadline = time.monotonic() + seconds
        next_sample = time.monotonic() + 10
        while time.monotonic() < deadline:
            gnome.activate(rng.choice(windows))
            gnome.poke()
            time.sleep(min(rng.uniform(3, 15), max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= next_sample:
                next_sample += 10
                cpu.append(proc.cpu_percent(None))
                rss.append(proc.memory_info().rss)
        backends = [ln for ln in daemon.log().splitlines() if ": using " in ln]
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
    figures = {
        "gnome_cpu_median_percent": statistics.median(cpu),
        "gnome_cpu_max_percent": max(cpu),
        "gnome_rss_max_mb": max(rss) / 1e6,
    }
    for line in dict.fromkeys(ln.split("presence.daemon.parts: ", 1)[-1] for ln in backends):
        print(f"cost: {line}")
    print(
        f"cost: {seconds / 60:g} min at a 1 s tick on GNOME Shell: CPU median "
        f"{figures['gnome_cpu_median_percent']:.2f} % of one core "
        f"(max {figures['gnome_cpu_max_percent']:.2f} %), RSS max "
        f"{figures['gnome_rss_max_mb']:.1f} MB (targets <= 0.3 %, <= 60 MB)"
    )
    return figures


def run() -> dict[str, float]:
    seconds = float(os.environ.get("BENCH_COST_SECONDS", "600"))
    user = desktop_user()
    figures: dict[str, float] = {}
    for step in (accuracy, lambda g: cost(g, seconds)):
        gnome = start_gnome(user)
        try:
            figures |= step(gnome)
        finally:
            gnome.stop()
            shutil.rmtree(gnome.runtime, ignore_errors=True)
            shutil.rmtree(gnome.work, ignore_errors=True)
    return figures


if __name__ == "__main__":
    run()
