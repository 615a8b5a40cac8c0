"""What the session benchmarks (daemon.py on X11, wayland_gnome.py, wayland_kwin.py,
wayland_sway.py) measure the same way: the daemon process's cost (CPU % of one core sampled
every 10 s, RSS peak) and the accuracy score (each app's recorded active time against the
script's truth), with the lines they print; and what the GNOME and KWin benchmarks share:
the GTK apps their scripts switch between, and the whole cost run of a desktop's daemon.
"""

from __future__ import annotations

import random
import signal
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import psutil

from presence.core.model import Span, SpanState
from tests.integration.daemon_process import DaemonProcess

SAMPLE_EVERY = 10.0  # seconds between CPU/RSS samples
GTK_APPS = {  # app id -> the command that opens its window (the GNOME and KWin scripts)
    "org.freedesktop.weston.wayland-terminal": ["weston-terminal"],
    "gtk3-demo": ["gtk3-demo"],
    "gtk3-widget-factory": ["gtk3-widget-factory"],
}
PARKING = ("gtk3-icon-browser", ["gtk3-icon-browser"])  # focused after a script; not scored
W = TypeVar("W")


class CostSamples:
    """CPU and RSS samples of one process (the daemon), taken on the benchmark's thread."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.cpu: list[float] = []  # % of one core since the previous sample
        self.rss: list[int] = []  # bytes
        self._next = 0.0

    def begin(self) -> None:
        """Start the CPU clock (the first sample counts from here) and the 10 s schedule."""
        self.proc.cpu_percent(None)
        self._next = time.monotonic() + SAMPLE_EVERY

    def sample_if_due(self) -> None:
        """Take a CPU and an RSS sample when the next 10 s mark has passed."""
        if time.monotonic() >= self._next:
            self._next += SAMPLE_EVERY
            self.cpu.append(self.proc.cpu_percent(None))
            self.rss.append(self.proc.memory_info().rss)

    def sample_rss(self) -> None:
        """One more RSS sample now (no CPU sample)."""
        self.rss.append(self.proc.memory_info().rss)

    def figures(self, prefix: str = "") -> dict[str, float]:
        """{prefix}cpu_median_percent, cpu_max_percent, rss_max_mb; raises ValueError if no
        sample was taken (a run shorter than 10 s)."""
        return {
            f"{prefix}cpu_median_percent": statistics.median(self.cpu),
            f"{prefix}cpu_max_percent": max(self.cpu),
            f"{prefix}rss_max_mb": max(self.rss) / 1e6,
        }


def switch_and_sample(
    samples: CostSamples, seconds: float, act: Callable[[], None], rng: random.Random
) -> None:
    """The cost run: `act()` (switch a window, give input) every 3-15 s for `seconds`,
    sampling the daemon every 10 s from the start."""
    samples.begin()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        act()
        time.sleep(min(rng.uniform(3, 15), max(0.0, deadline - time.monotonic())))
        samples.sample_if_due()


def print_cost(figures: dict[str, float], prefix: str, seconds: float, desktop: str) -> None:
    """The Wayland desktops' cost line (targets 0.3 % of one core, 60 MB)."""
    print(
        f"cost: {seconds / 60:g} min at a 1 s tick on {desktop}: CPU median "
        f"{figures[f'{prefix}cpu_median_percent']:.2f} % of one core "
        f"(max {figures[f'{prefix}cpu_max_percent']:.2f} %), RSS max "
        f"{figures[f'{prefix}rss_max_mb']:.1f} MB (targets <= 0.3 %, <= 60 MB)"
    )


def print_backends(log: str) -> None:
    """One `cost:` line a backend the daemon logged it uses (each once, in log order)."""
    backends = [ln for ln in log.splitlines() if ": using " in ln]
    for line in dict.fromkeys(ln.split("presence.daemon.parts: ", 1)[-1] for ln in backends):
        print(f"cost: {line}")


def recorded_active(spans: Iterable[Span], scored_from: float | None = None) -> dict[str, float]:
    """Each app's recorded active seconds; with `scored_from` (time.time()), only the part of
    each span after it."""
    recorded: dict[str, float] = defaultdict(float)
    for span in spans:
        if span.state is SpanState.ACTIVE and span.app is not None:
            if scored_from is None:
                recorded[span.app] += span.seconds
            else:
                start = max(span.start.timestamp(), scored_from)
                recorded[span.app] += max(0.0, span.end.timestamp() - start)
    return recorded


def score(
    truth: dict[str, float],
    recorded: dict[str, float],
    *,
    app_width: int,
    seconds_width: int = 6,
    error_width: int = 5,
) -> float:
    """Print one `accuracy:` line an app of the truth (widths as each benchmark had them);
    return the worst per-app error in seconds (absolute)."""
    errors = {app: recorded[app] - truth[app] for app in truth}
    worst = max(abs(e) for e in errors.values())
    for app in sorted(truth):
        print(
            f"accuracy: {app:{app_width}s} truth {truth[app]:{seconds_width}.2f} s  "
            f"recorded {recorded[app]:{seconds_width}.2f} s  "
            f"error {errors[app]:+{error_width}.3f} s"
        )
    return worst


def poke_until(poke: Callable[[], object], until: float, rng: random.Random) -> None:
    """`poke()` (input: what resets the desktop's idle time) every 0.6-1.4 s until `until`
    (time.time()), none in the last half second."""
    while (left := until - time.time()) > 0:
        if left > 0.5:
            poke()
        time.sleep(min(rng.uniform(0.6, 1.4), max(0.0, until - time.time())))


def scripted_switches(
    apps: Iterable[str],
    activate: Callable[[str], float],
    poke: Callable[[], object],
    minutes: float,
    rng: random.Random,
) -> tuple[dict[str, float], tuple[str, float] | None]:
    """The Wayland accuracy script: activate a random app (never the same twice in a row) every
    5-30 s, with input (`poke`) every second or so in between, for `minutes`. `activate`
    returns the time.time() the switch happened. Returns the truth so far and the last
    (app, switched at), whose time the caller ends by parking the focus."""
    apps = list(apps)
    truth: dict[str, float] = defaultdict(float)
    end = time.time() + minutes * 60
    previous: tuple[str, float] | None = None
    while time.time() < end - 1:
        app = rng.choice([a for a in apps if previous is None or a != previous[0]])
        switched = activate(app)
        if previous is not None:
            truth[previous[0]] += switched - previous[1]
        previous = (app, switched)
        poke_until(poke, min(switched + rng.uniform(5, 30), end), rng)
    return truth, previous


def gtk_windows(
    spawn: Callable[[Sequence[str]], object], wait_window: Callable[[str], W]
) -> dict[str, W]:
    """Open every GTK_APPS window and the PARKING one; each app's window once it is mapped."""
    for argv in [*GTK_APPS.values(), PARKING[1]]:
        spawn(argv)
    return {app: wait_window(app) for app in [*GTK_APPS, PARKING[0]]}


def desktop_cost(
    daemon: DaemonProcess,
    ready: str,
    act: Callable[[], None],
    rng: random.Random,
    seconds: float,
    prefix: str,
    desktop: str,
) -> dict[str, float]:
    """The Wayland desktops' cost run: a first start (it creates the database), then the
    measured second start, settled 3 s after `ready` is logged, `act()` every 3-15 s for
    `seconds`. Prints the backends and the cost line; returns the {prefix}* figures."""
    daemon.start()  # the first start creates the database; the measured run is the second
    daemon.wait_for_log(ready)
    daemon.stop(signal.SIGTERM)
    daemon.start()
    assert daemon.proc is not None
    samples = CostSamples(daemon.proc.pid)
    try:
        daemon.wait_for_log(ready)
        time.sleep(3)  # start-up is not the steady state
        switch_and_sample(samples, seconds, act, rng)
        log = daemon.log()
        daemon.stop(signal.SIGTERM)
    finally:
        daemon.kill()
    figures = samples.figures(prefix)
    print_backends(log)
    print_cost(figures, prefix, seconds, desktop)
    return figures


S = TypeVar("S")


def per_session(
    start: Callable[[], S],
    discard: Callable[[S], None],
    steps: Sequence[Callable[[S], dict[str, float]]],
) -> dict[str, float]:
    """Each step on a fresh desktop session of its own (started, then discarded however the
    step ends); their figures merged."""
    figures: dict[str, float] = {}
    for step in steps:
        session = start()
        try:
            figures |= step(session)
        finally:
            discard(session)
    return figures
