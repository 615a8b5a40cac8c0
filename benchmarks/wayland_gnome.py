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
from tests.integration.wayland_gnome import GnomeSession, GnomeWindow, start_gnome
from tests.integration.wayland_sway import UserDaemonProcess

CONFIG = '[device]\nname = "gnomebench"\n'


def _windows(gnome: GnomeSession) -> dict[str, GnomeWindow]:
    return gtk_windows(gnome.spawn, gnome.wait_window)


def _daemon(gnome: GnomeSession) -> UserDaemonProcess:
    root = gnome.runtime / "bench-daemon"
    root.mkdir()
    return UserDaemonProcess(gnome.user, root, gnome.env, CONFIG)


def accuracy(gnome: GnomeSession, minutes: float = 2.0) -> dict[str, float]:
    rng = random.Random(42)
    windows = _windows(gnome)
    daemon = _daemon(gnome)
    daemon.start()

    def activate(app: str) -> float:
        switched = gnome.activate(windows[app])
        gnome.poke()
        return switched

    try:
        daemon.wait_for_log("using gnome")
        # Parked before the plan, once the daemon watches: a window mapped last may take the
        # focus back shortly after it appears, which would count for it before the plan.
        gnome.activate(windows[PARKING[0]])
        time.sleep(1)
        truth, previous = scripted_switches(GTK_APPS, activate, gnome.poke, minutes, rng)
        parked = gnome.activate(windows[PARKING[0]])
        assert previous is not None
        truth[previous[0]] += parked - previous[1]
        time.sleep(2)
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
    worst = score(truth, recorded_active(daemon.spans()), app_width=40)
    print(f"accuracy: worst per-app error {worst:.3f} s over {minutes:g} min (target <= 0.25 s)")
    return {"gnome_accuracy_worst_error_s": worst}


def cost(gnome: GnomeSession, seconds: float) -> dict[str, float]:
    rng = random.Random(7)
    windows = list(_windows(gnome).values())
    daemon = _daemon(gnome)

    def act() -> None:
        gnome.activate(rng.choice(windows))
        gnome.poke()

    return desktop_cost(daemon, "using gnome", act, rng, seconds, "gnome_", "GNOME Shell")


def run() -> dict[str, float]:
    seconds = float(os.environ.get("BENCH_COST_SECONDS", "600"))
    user = desktop_user()
    return per_session(lambda: start_gnome(user), discard, (accuracy, lambda g: cost(g, seconds)))


if __name__ == "__main__":
    run()
