"""The real daemon on Xvfb: accuracy of a scripted session, CPU and memory at a 1 s tick,
and time from start to READY. Uses the same harness as the integration tests.

- accuracy: a 2-minute session switching between two xterms and a Tk window every 5-30 s at
  fractional times (seeded), with input all the while; each app's recorded active time
  against the truth (focus and input sent on the benchmark's own X connection, timed to the
  millisecond).
- cost: the daemon at a 1 s tick for BENCH_COST_SECONDS (default 600) while windows switch and
  input arrives now and then; CPU sampled every 10 s (median % of one core) and peak RSS.
- ready: wall time from exec to READY=1 on a $NOTIFY_SOCKET, median of 5 starts.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from benchmarks.session_cost import CostSamples, recorded_active, score, switch_and_sample
from tests.integration.daemon_process import DaemonProcess, without_bus
from tests.integration.x11_driver import XDriver
from tests.integration.xserver import XSession, x_server


def _plan(rng: random.Random, apps: list[str], seconds: float) -> list[tuple[float, str]]:
    """(offset, app) switches every 5-30 s at millisecond-fractional offsets, no app twice."""
    plan: list[tuple[float, str]] = []
    at, previous = 0.0, None
    while at < seconds:
        app = rng.choice([a for a in apps if a != previous])
        plan.append((at, app))
        previous = app
        at = round(at + rng.uniform(5, 30), 3)
    return plan


def accuracy(x: XSession, root: Path, minutes: float = 2.0) -> dict[str, float]:
    """Switches and inputs from the benchmark's own X connection (XTest, EWMH activation), so
    the truth is each app's time between the requests that gave it focus and took it away."""
    rng = random.Random(42)
    windows = {
        "AppAlpha": x.spawn_xterm("AppAlpha", "alpha")[1],
        "AppBeta": x.spawn_xterm("AppBeta", "beta")[1],
        "TkApp": x.spawn_tk("tk window", "TkApp")[1],
    }
    parking = x.spawn_xterm("Parking", "parking")[1]  # focused after the script; not scored
    driver = XDriver(x.display)
    driver.activate(parking)
    daemon = DaemonProcess(root, without_bus(x.env))
    daemon.start()
    truth: dict[str, float] = defaultdict(float)
    try:
        daemon.wait_for_log("using x11")
        plan = _plan(rng, sorted(windows), minutes * 60)
        start = time.time() + 0.5
        switched: list[tuple[float, str]] = []
        for (offset, app), until in zip(
            plan, [o for o, _ in plan[1:]] + [minutes * 60], strict=True
        ):
            time.sleep(max(0.0, start + offset - time.time()))
            switched.append((driver.activate(windows[app]), app))
            at = offset + rng.uniform(0.05, 0.3)
            while at < until - 0.05:  # input all along, at fractional times
                time.sleep(max(0.0, start + at - time.time()))
                driver.key()
                at += rng.uniform(0.3, 1.2)
        time.sleep(max(0.0, start + minutes * 60 - time.time()))
        end = driver.activate(parking)
        for (at, app), nxt in zip(switched, [t for t, _ in switched[1:]] + [end], strict=True):
            truth[app] += nxt - at
        time.sleep(2)
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
        driver.close()
    worst = score(
        truth, recorded_active(daemon.spans()), app_width=9, seconds_width=7, error_width=6
    )
    print(
        f"accuracy: worst per-app error {worst:.3f} s over {minutes:g} min, "
        f"{len(switched)} switches (target <= 0.25 s)"
    )
    return {"accuracy_worst_error_s": worst}


def cost(x: Any, root: Path, seconds: float) -> dict[str, float]:
    rng = random.Random(7)
    windows = [x.spawn_xterm(f"Cost{i}", f"cost {i}")[1] for i in range(3)]
    daemon = DaemonProcess(root, without_bus(x.env))
    # The very first start also creates and migrates the database (Alembic is loaded then);
    # every later start, the daemon's all-day case, finds the schema current. Measure both.
    daemon.start()
    daemon.wait_for_log("using x11")
    time.sleep(3)
    assert daemon.proc is not None
    first_rss = psutil.Process(daemon.proc.pid).memory_info().rss
    daemon.stop(signal.SIGTERM)
    daemon.start()
    assert daemon.proc is not None
    samples = CostSamples(daemon.proc.pid)

    def act() -> None:
        x.focus(rng.choice(windows))
        x.type_text("ab")

    try:
        daemon.wait_for_log("using x11")
        time.sleep(3)  # let start-up settle; it is measured separately (ready)
        switch_and_sample(samples, seconds, act, rng)
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
    figures = samples.figures() | {
        "rss_median_mb": statistics.median(samples.rss) / 1e6,
        "rss_first_start_mb": first_rss / 1e6,
    }
    print(
        f"cost: {seconds / 60:g} min at a 1 s tick: CPU median "
        f"{figures['cpu_median_percent']:.2f} % of one core "
        f"(max {figures['cpu_max_percent']:.2f} %), RSS max {figures['rss_max_mb']:.1f} MB "
        f"(first start, migrating a new database: {figures['rss_first_start_mb']:.1f} MB) "
        f"(targets <= 0.5 %, <= 60 MB)"
    )
    return figures


def ready(x: Any, root: Path, runs: int = 5) -> dict[str, float]:
    times = []
    for i in range(runs):
        sock_path = root / f"notify{i}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(sock_path))
        sock.settimeout(30)
        env = without_bus(x.env)
        env["NOTIFY_SOCKET"] = str(sock_path)
        daemon = DaemonProcess(root / f"ready{i}", env)
        started = time.monotonic()
        try:
            daemon.start(wait_for="")
            while b"READY=1" not in sock.recv(4096):
                pass
            times.append(time.monotonic() - started)
            daemon.stop(signal.SIGTERM)
        finally:
            daemon.kill()
            sock.close()
    median = statistics.median(times)
    print(
        f"ready: exec to READY=1 median {median:.3f} s over {runs} starts "
        f"(min {min(times):.3f}, max {max(times):.3f}; target <= 1 s)"
    )
    return {"ready_median_s": median}


def run() -> dict[str, float]:
    """BENCH_DAEMON_PARTS=accuracy,ready,cost (default all) runs only some parts."""
    seconds = float(os.environ.get("BENCH_COST_SECONDS", "600"))
    parts = [p for p in os.environ.get("BENCH_DAEMON_PARTS", "").split(",") if p]
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, x_server() as server:
        root = Path(tmp)
        steps: dict[str, Callable[[XSession], dict[str, float]]] = {
            "accuracy": lambda x: accuracy(x, root / "accuracy"),
            "ready": lambda x: ready(x, root),
            "cost": lambda x: cost(x, root / "cost", seconds),
        }
        for name, step in steps.items():
            if parts and name not in parts:
                continue
            session = XSession(server)
            try:
                figures |= step(session)
            finally:
                session.close()
    return figures


if __name__ == "__main__":
    run()
