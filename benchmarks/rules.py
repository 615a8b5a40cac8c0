"""Rules: a simulated year of occurrences, and notification/action latency on the real daemon.

- year: five rules (a night across midnight, a weekend window inside the DST hours, weekday
  focus, a one-off date, an early window that the spring gap and the autumn repeat both hit)
  in Europe/Berlin and America/New_York over 2026. The pure engine is driven twice: ticking
  every 60 s with random suspends (5 min to 10 h) and clock steps back (1 s to 5 min), and by
  random jumps (1 s to 12 h, log-uniform). Its starts and ends are compared against an
  independent enumeration that walks every UTC minute of the year and takes, for each local
  start and end time, the first minute whose wall clock reads it or later. Missed: an
  expected occurrence without its end (or, when a tick fell inside it, without its start);
  doubled: a start or end given twice; spurious: an occurrence that should not exist.
- latency: the real `presence run` with dunst and a screensaver service on a private bus, on
  Xvfb with openbox: each warning and start notification seen on the bus against its planned
  instant, a lock request against start + grace, and a paused app against the moment its
  window got focus. Skipped (figures NaN) when the components are missing.
"""

from __future__ import annotations

import bisect
import math
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil

from presence.rules.engine import Context, EngineState, Step, evaluate
from presence.rules.model import Rule, RuleKind, parse_rule
from tests.integration.daemon_process import DaemonProcess
from tests.integration.monitor_output import call_times
from tests.integration.sessionbus import BusRecorder, FakeService, PrivateBus
from tests.integration.xserver import XSession, x_server

YEAR = 2026
ZONES = ("Europe/Berlin", "America/New_York")


def year_rules() -> list[Rule]:
    return [
        parse_rule(
            "night", RuleKind.TECH_FREE, {"days": "daily", "start": "22:00", "end": "06:00"}
        ),
        parse_rule(
            "weekend-small-hours",
            RuleKind.DEVICE_FREE,
            {"days": "weekends", "start": "02:30", "end": "03:30", "devices": "bench"},
        ),
        parse_rule(
            "deep-work",
            RuleKind.FOCUS,
            {"days": "weekdays", "start": "09:00", "end": "11:00", "apps": "firefox"},
        ),
        parse_rule(
            "christmas-eve",
            RuleKind.TECH_FREE,
            {"on": "2026-12-24", "start": "18:00", "end": "23:00"},
        ),
        parse_rule(
            "early",
            RuleKind.FOCUS,
            {"days": "daily", "start": "01:30", "end": "02:15", "apps": "x"},
        ),
    ]


def expected(
    rules: list[Rule], zone: ZoneInfo, lo: datetime, hi: datetime
) -> set[tuple[str, float, float]]:
    """Occurrences by walking UTC minutes (independent of presence.rules.schedule)."""
    first = lo - timedelta(days=2)
    minutes = int((hi - first).total_seconds() // 60) + 3 * 1440
    walls = [
        (first + timedelta(minutes=i)).astimezone(zone).replace(tzinfo=None) for i in range(minutes)
    ]
    targets: list[tuple[datetime, str, date, str]] = []
    day = first.date()
    while day <= hi.date() + timedelta(days=1):
        for rule in rules:
            assert rule.start is not None and rule.end is not None
            if (rule.on is not None and day != rule.on) or (
                rule.on is None and day.weekday() not in rule.days
            ):
                continue
            end_day = day if rule.end > rule.start else day + timedelta(days=1)
            targets.append((datetime.combine(day, rule.start), rule.name, day, "start"))
            targets.append((datetime.combine(end_day, rule.end), rule.name, day, "end"))
        day += timedelta(days=1)
    targets.sort()
    found: dict[tuple[str, date], dict[str, float]] = {}
    index = 0
    for wall, name, day, which in targets:
        while index < len(walls) and walls[index] < wall:
            index += 1
        if index < len(walls):
            instant = first + timedelta(minutes=index)
            found.setdefault((name, day), {})[which] = instant.timestamp()
    return {
        (name, t["start"], t["end"])
        for (name, _), t in found.items()
        if "start" in t and "end" in t and t["end"] > t["start"] and t["start"] < hi.timestamp()
        and t["end"] > lo.timestamp()
    }  # fmt: skip


def drive(
    rules: list[Rule], zone: ZoneInfo, steps: Iterator[datetime]
) -> tuple[Counter[Any], Counter[Any], list[float], float]:
    """Run the engine over `steps`; returns (starts, ends, instants evaluated, seconds)."""
    state = EngineState()
    context = Context(zone, "bench", active=True, locked=False, app="firefox")
    starts: Counter[tuple[str, float, float]] = Counter()
    ends: Counter[tuple[str, float, float]] = Counter()
    instants: list[float] = []
    began = time.perf_counter()
    for now in steps:
        instants.append(now.timestamp())
        for decision in evaluate(rules, now, state, context).decisions:
            occ = decision.occurrence
            assert occ.end is not None
            key = (occ.rule, occ.start.timestamp(), occ.end.timestamp())
            if decision.step is Step.START:
                starts[key] += 1
            elif decision.step is Step.END and not decision.cancelled:
                ends[key] += 1
    return starts, ends, sorted(instants), time.perf_counter() - began


def _seen_inside(instants: list[float], start: float, end: float) -> bool:
    """Whether an evaluation fell inside [start, end)."""
    index = bisect.bisect_left(instants, start)
    return index < len(instants) and instants[index] < end


def ticking(lo: datetime, hi: datetime, rng: random.Random) -> Iterator[datetime]:
    now = lo
    while now < hi:
        yield now
        roll = rng.random()
        if roll < 0.0005:
            now -= timedelta(seconds=rng.uniform(1, 300))  # an NTP step back
        elif roll < 0.0015:
            now += timedelta(seconds=rng.uniform(300, 36000))  # a suspend
        else:
            now += timedelta(seconds=60 + rng.uniform(-0.5, 0.5))


def jumping(lo: datetime, hi: datetime, rng: random.Random) -> Iterator[datetime]:
    now = lo
    while now < hi:
        yield now
        now += timedelta(seconds=math.exp(rng.uniform(0, math.log(12 * 3600))))


def year(zone_name: str, mode: str) -> dict[str, float]:
    zone = ZoneInfo(zone_name)
    rules = year_rules()
    lo = datetime(YEAR, 1, 1, tzinfo=zone).astimezone(UTC)
    hi = datetime(YEAR + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    want = expected(rules, zone, lo, hi)
    rng = random.Random(f"{zone_name}-{mode}")
    steps = ticking(lo, hi, rng) if mode == "ticks" else jumping(lo, hi, rng)
    starts, ends, instants, seconds = drive(rules, zone, steps)
    calls = len(instants)
    # The first occurrence may straddle the year's start (no start seen); count whole ones.
    whole = {w for w in want if w[1] >= lo.timestamp() and w[2] <= hi.timestamp() - 86400}
    missed = [
        w for w in whole if ends[w] == 0 or (_seen_inside(instants, w[1], w[2]) and starts[w] == 0)
    ]
    for name, start, end in sorted(missed, key=lambda m: m[1])[:5]:
        print(f"  missed: {name} {datetime.fromtimestamp(start, zone)} to "
              f"{datetime.fromtimestamp(end, zone)} (ends {ends[(name, start, end)]}, "
              f"starts {starts[(name, start, end)]})")  # fmt: skip
    doubled = sum(1 for c in (*starts.values(), *ends.values()) if c > 1)
    spurious = len({k for k in (*starts, *ends) if k not in want})
    label = f"{zone_name} {mode}"
    print(
        f"year {label:27s} {len(whole):4d} occurrences, {calls:7d} evaluations "
        f"({1e6 * seconds / calls:.0f} us each): missed {len(missed)}, doubled {doubled}, "
        f"spurious {spurious}"
    )
    key = f"{zone_name.split('/')[1].lower()}_{mode}"
    return {f"{key}_missed": len(missed), f"{key}_doubled": doubled, f"{key}_spurious": spurious,
            f"{key}_occurrences": len(whole)}  # fmt: skip


# -- latency on the real daemon ----------------------------------------------------------------


def latency() -> dict[str, float]:
    missing = [b for b in ("Xvfb", "openbox", "dunst", "dbus-daemon", "dbus-monitor", "xterm")
               if shutil.which(b) is None]  # fmt: skip
    if missing:
        print(f"latency: skipped, missing {', '.join(missing)} (`make system-packages`)")
        return {k: math.nan for k in ("warning_late_max_s", "start_late_max_s", "lock_late_s",
                                      "focus_action_s")}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="presence-bench-rules-") as tmp, x_server() as x:
        root = Path(tmp)
        bus = PrivateBus("DBUS_SESSION_BUS_ADDRESS")
        saver = FakeService(bus, "screensaver")
        env = {**x.env, "DBUS_SESSION_BUS_ADDRESS": bus.address,
               "DBUS_SYSTEM_BUS_ADDRESS": "unix:path=/nonexistent/presence-bench"}  # fmt: skip
        (root / "dunstrc").write_text("[global]\n    follow = none\n")
        dunst = subprocess.Popen(
            ["dunst", "-config", str(root / "dunstrc")], env=env, stderr=subprocess.DEVNULL
        )
        session = XSession(x)
        try:
            return _measure(root, env, session, bus.address)
        finally:
            session.close()
            dunst.terminate()
            dunst.wait(10)
            saver.stop()
            bus.stop()


def _window(start: datetime, seconds: float) -> list[str]:
    end = start + timedelta(seconds=seconds)
    return ["--on", start.date().isoformat(), "--start", start.strftime("%H:%M:%S"),
            "--end", end.strftime("%H:%M:%S")]  # fmt: skip


def _measure(root: Path, env: dict[str, str], session: XSession, address: str) -> dict[str, float]:
    frozen, frozen_wid = session.spawn_xterm("Frozen", "paused on focus")
    _, other_wid = session.spawn_xterm("Other", "focused first")
    session.focus(other_wid)
    daemon = DaemonProcess(
        root / "d", env, '[device]\nname = "bench"\n[reports]\ntimezone = "UTC"\n'
    )
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=12)
    starts = [base + timedelta(seconds=4 * i) for i in range(4)]

    def cli(*args: str) -> None:
        subprocess.run([sys.executable, "-m", "presence", *args], env=daemon.env, check=True,
                       capture_output=True, timeout=60)  # fmt: skip

    for i, start in enumerate(starts[:3]):
        cli(
            "rules",
            "add",
            "tech-free",
            f"n{i}",
            *_window(start, 3),
            "--warn",
            "3s",
            "--grace",
            "1m",
        )
    cli(
        "rules",
        "add",
        "tech-free",
        "lock",
        *_window(starts[3], 6),
        "--warn",
        "none",
        "--action",
        "lock",
        "--grace",
        "1s",
    )
    cli("rules", "add", "focus", "calm", *_window(base - timedelta(minutes=1), 600), "--apps",
        "frozen", "--action", "pause-apps", "--grace", "0s", "--warn", "none")  # fmt: skip
    with BusRecorder(address, root / "bus.log") as monitor:
        daemon.start()
        try:
            time.sleep(1)
            focused = time.monotonic()
            session.focus(frozen_wid)
            while psutil.Process(frozen.pid).status() != psutil.STATUS_STOPPED:
                if time.monotonic() - focused > 20:
                    raise RuntimeError("the focused app was not paused within 20 s")
                time.sleep(0.005)
            focus_action = time.monotonic() - focused
            monitor.wait_for("member=Lock", timeout=60)
            time.sleep(1)
            text = monitor.text()
            daemon.stop(signal.SIGTERM)
        finally:
            daemon.kill()
    warn_late = [
        call_times(text, "Notify", "Tech-free time in", f"“n{i}”")[0] - (s.timestamp() - 3)
        for i, s in enumerate(starts[:3])
    ]
    start_late = [
        call_times(text, "Notify", "has started", f"“n{i}” until")[0] - s.timestamp()
        for i, s in enumerate(starts[:3])
    ]
    lock = call_times(text, "Lock", "ScreenSaver")[0] - (starts[3].timestamp() + 1)
    print(
        f"latency: warnings late {', '.join(f'{w:.3f}' for w in warn_late)} s; starts late "
        f"{', '.join(f'{s:.3f}' for s in start_late)} s; lock {lock:.3f} s after start + grace; "
        f"focused app paused {focus_action:.3f} s after the focus change (targets <= 2 s)"
    )
    return {
        "warning_late_max_s": max(warn_late),
        "start_late_max_s": max(start_late),
        "lock_late_s": lock,
        "focus_action_s": focus_action,
    }


def run() -> dict[str, float]:
    results: dict[str, float] = {}
    for zone in ZONES:
        for mode in ("ticks", "jumps"):
            results.update(year(zone, mode))
    results.update(latency())
    return results


if __name__ == "__main__":
    print(run())
