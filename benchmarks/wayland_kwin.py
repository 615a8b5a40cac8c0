"""The real daemon on a headless KWin (Wayland), run as the desktop test user: accuracy of a
scripted session, CPU and memory. Uses the integration tests' KWin harness.

- accuracy: a 2-minute session activating weston-terminal, gtk3-demo and gtk3-widget-factory
  windows every 5-30 s at fractional times (seeded), with input (ScreenSaver
  SimulateUserActivity) every second or so, then focus parked on a fourth window; each app's
  recorded active time against the script's own clock.
- cost: the daemon at its default 1 s tick for BENCH_COST_SECONDS (default 600) while windows
  switch every 3-15 s and input arrives; CPU sampled every 10 s (median % of one core) and
  peak RSS. Every backend is left on auto, as a Plasma user would run it.
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
from tests.integration.wayland_kwin import KWinSession, KWinWindow, start_kwin
from tests.integration.wayland_sway import UserDaemonProcess

APPS = {
    "org.freedesktop.weston.wayland-terminal": ["weston-terminal"],
    "gtk3-demo": ["gtk3-demo"],
    "gtk3-widget-factory": ["gtk3-widget-factory"],
}
PARKING = ("gtk3-icon-browser", ["gtk3-icon-browser"])
CONFIG = '[device]\nname = "kwinbench"\n'
NO_SYSTEM_BUS = "unix:path=/nonexistent/presence-bench-system-bus"


def _windows(kwin: KWinSession) -> dict[str, KWinWindow]:
    for argv in [*APPS.values(), PARKING[1]]:
        kwin.spawn(argv)
    return {app: kwin.wait_window(app) for app in [*APPS, PARKING[0]]}


def _daemon(kwin: KWinSession) -> UserDaemonProcess:
    root = kwin.user.private_dir("presence-bench-")
    env = {**kwin.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    return UserDaemonProcess(kwin.user, root, env, CONFIG)


def _busy_until(kwin: KWinSession, until: float, rng: random.Random) -> None:
    """Input now and then (what resets KWin's idle timers) until `until` (time.time())."""
    while (left := until - time.time()) > 0:
        if left > 0.5:
            kwin.screensaver("SimulateUserActivity")
        time.sleep(min(rng.uniform(0.6, 1.4), max(0.0, until - time.time())))


def accuracy(kwin: KWinSession, minutes: float = 2.0) -> dict[str, float]:
    rng = random.Random(42)
    windows = _windows(kwin)
    daemon = _daemon(kwin)
    daemon.start()
    truth: dict[str, float] = defaultdict(float)
    try:
        # Backends are built at the first tick, the lock state last: once it is logged, the
        # daemon is recording. The plan starts from a known focus, away from every scored app.
        daemon.wait_for_log("whether the screen is locked: using")
        # Scored from a moment after a parking switch, well before the plan's first one.
        scored_from = kwin.activate(windows[PARKING[0]]) + 0.25
        time.sleep(1)
        end = time.time() + minutes * 60
        previous: tuple[str, float] | None = None
        while time.time() < end - 1:
            app = rng.choice([a for a in APPS if previous is None or a != previous[0]])
            switched = kwin.activate(windows[app])
            if previous is not None:
                truth[previous[0]] += switched - previous[1]
            previous = (app, switched)
            _busy_until(kwin, min(switched + rng.uniform(5, 30), end), rng)
        parked = kwin.activate(windows[PARKING[0]])
        assert previous is not None
        truth[previous[0]] += parked - previous[1]
        time.sleep(2)
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
    recorded: dict[str, float] = defaultdict(float)
    for span in daemon.spans():
        if span.state is SpanState.ACTIVE and span.app is not None:
            # Only the plan is scored: whatever had focus before the first parking is not.
            start = max(span.start.timestamp(), scored_from)
            recorded[span.app] += max(0.0, span.end.timestamp() - start)
    shutil.rmtree(daemon.root, ignore_errors=True)
    errors = {app: recorded[app] - truth[app] for app in truth}
    worst = max(abs(e) for e in errors.values())
    for app in sorted(truth):
        print(
            f"accuracy: {app:40s} truth {truth[app]:6.2f} s  recorded {recorded[app]:6.2f} s  "
            f"error {errors[app]:+5.3f} s"
        )
    print(f"accuracy: worst per-app error {worst:.3f} s over {minutes:g} min (target <= 0.25 s)")
    return {"kwin_accuracy_worst_error_s": worst}


def cost(kwin: KWinSession, seconds: float) -> dict[str, float]:
    rng = random.Random(7)
    windows = list(_windows(kwin).values())
    daemon = _daemon(kwin)
    daemon.start()  # the first start creates the database; the measured run is the second
    daemon.wait_for_log("using kwin")
    daemon.stop(signal.SIGTERM)
    daemon.start()
    assert daemon.proc is not None
    proc = psutil.Process(daemon.proc.pid)
    cpu: list[float] = []
    rss: list[int] = []
    try:
        daemon.wait_for_log("using kwin")
        time.sleep(3)  # start-up is not the steady state
        proc.cpu_percent(None)
        deadline = time.monotonic() + seconds
        next_sample = time.monotonic() + 10
        while time.monotonic() < deadline:
            kwin.activate(rng.choice(windows))
            kwin.screensaver("SimulateUserActivity")
            time.sleep(min(rng.uniform(3, 15), max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= next_sample:
                next_sample += 10
                cpu.append(proc.cpu_percent(None))
                rss.append(proc.memory_info().rss)
        backends = [ln for ln in daemon.log().splitlines() if ": using " in ln]
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
        shutil.rmtree(daemon.root, ignore_errors=True)
    figures = {
        "kwin_cpu_median_percent": statistics.median(cpu),
        "kwin_cpu_max_percent": max(cpu),
        "kwin_rss_max_mb": max(rss) / 1e6,
    }
    for line in dict.fromkeys(ln.split("presence.daemon.parts: ", 1)[-1] for ln in backends):
        print(f"cost: {line}")
    print(
        f"cost: {seconds / 60:g} min at a 1 s tick on KWin: CPU median "
        f"{figures['kwin_cpu_median_percent']:.2f} % of one core "
        f"(max {figures['kwin_cpu_max_percent']:.2f} %), RSS max "
        f"{figures['kwin_rss_max_mb']:.1f} MB (targets <= 0.3 %, <= 60 MB)"
    )
    return figures


def run() -> dict[str, float]:
    seconds = float(os.environ.get("BENCH_COST_SECONDS", "600"))
    user = desktop_user()
    figures: dict[str, float] = {}
    for step in (accuracy, lambda k: cost(k, seconds)):
        kwin = start_kwin(user)
        try:
            figures |= step(kwin)
        finally:
            kwin.stop()
            shutil.rmtree(kwin.runtime, ignore_errors=True)
            shutil.rmtree(kwin.work, ignore_errors=True)
    return figures


if __name__ == "__main__":
    run()
