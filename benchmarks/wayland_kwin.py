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
import time

from benchmarks.session_cost import (
    GTK_APPS,
    PARKING,
    desktop_cost,
    gtk_windows,
    per_session,
    recorded_active,
    score,
    scripted_switches,
)
from tests.integration.desktop_user import desktop_user
from tests.integration.user_session import discard
from tests.integration.wayland_kwin import KWinSession, KWinWindow, start_kwin
from tests.integration.wayland_sway import UserDaemonProcess

CONFIG = '[device]\nname = "kwinbench"\n'
NO_SYSTEM_BUS = "unix:path=/nonexistent/presence-bench-system-bus"


def _windows(kwin: KWinSession) -> dict[str, KWinWindow]:
    return gtk_windows(kwin.spawn, kwin.wait_window)


def _daemon(kwin: KWinSession) -> UserDaemonProcess:
    root = kwin.user.private_dir("presence-bench-")
    env = {**kwin.env, "DBUS_SYSTEM_BUS_ADDRESS": NO_SYSTEM_BUS}
    return UserDaemonProcess(kwin.user, root, env, CONFIG)


def _poke(kwin: KWinSession) -> None:
    """Input: what resets KWin's idle timers."""
    kwin.screensaver("SimulateUserActivity")


def accuracy(kwin: KWinSession, minutes: float = 2.0) -> dict[str, float]:
    rng = random.Random(42)
    windows = _windows(kwin)
    daemon = _daemon(kwin)
    daemon.start()
    try:
        # Backends are built at the first tick, the lock state last: once it is logged, the
        # daemon is recording. The plan starts from a known focus, away from every scored app.
        daemon.wait_for_log("whether the screen is locked: using")
        # Scored from a moment after a parking switch, well before the plan's first one.
        scored_from = kwin.activate(windows[PARKING[0]]) + 0.25
        time.sleep(1)
        truth, previous = scripted_switches(
            GTK_APPS, lambda app: kwin.activate(windows[app]), lambda: _poke(kwin), minutes, rng
        )
        parked = kwin.activate(windows[PARKING[0]])
        assert previous is not None
        truth[previous[0]] += parked - previous[1]
        time.sleep(2)
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
    # Only the plan is scored: whatever had focus before the first parking is not.
    recorded = recorded_active(daemon.spans(), scored_from)
    shutil.rmtree(daemon.root, ignore_errors=True)
    worst = score(truth, recorded, app_width=40)
    print(f"accuracy: worst per-app error {worst:.3f} s over {minutes:g} min (target <= 0.25 s)")
    return {"kwin_accuracy_worst_error_s": worst}


def cost(kwin: KWinSession, seconds: float) -> dict[str, float]:
    rng = random.Random(7)
    windows = list(_windows(kwin).values())
    daemon = _daemon(kwin)

    def act() -> None:
        kwin.activate(rng.choice(windows))
        _poke(kwin)

    try:
        return desktop_cost(daemon, "using kwin", act, rng, seconds, "kwin_", "KWin")
    finally:
        shutil.rmtree(daemon.root, ignore_errors=True)


def run() -> dict[str, float]:
    seconds = float(os.environ.get("BENCH_COST_SECONDS", "600"))
    user = desktop_user()
    return per_session(lambda: start_kwin(user), discard, (accuracy, lambda k: cost(k, seconds)))


if __name__ == "__main__":
    run()
