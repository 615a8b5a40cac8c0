"""The outage target of issue 12: two real daemons (two Xvfb displays, real xterms switched and
typed into) record on one real PostgreSQL that is stopped for BENCH_OUTAGE_SECONDS (default
600, the issue's 10 minutes) in the middle. After the server returns and the spools are
replayed: each device's recorded active time per app against what was done (max error), and
the spans stored twice (same uid twice, or two spans of a device overlapping). Run from
benchmarks/household.py (BENCH_SKIP_OUTAGE skips it) or alone:
`BENCH_OUTAGE_SECONDS=60 .venv/bin/python -m benchmarks.household_outage`.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import signal
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from presence.core.model import SpanState
from tests.integration.daemon_process import DaemonProcess, spans_by_device, without_bus
from tests.integration.postgres import start_server
from tests.integration.xserver import XSession, x_server

BEFORE = 20.0  # recording before the outage, and after the replay
SWITCH_EVERY = 5.0


def _work(
    sessions: dict[str, XSession],
    windows: dict[str, list[tuple[str, int]]],
    truth: dict[tuple[str, str], float],
    current: dict[str, tuple[str, float]],
    seconds: float,
    began: dict[str, float],
) -> None:
    """Switch each display between its two xterms every SWITCH_EVERY s, typing at each switch;
    `current` is what each display shows since when, `truth` the time closed so far, `began`
    each display's first confirmed focus (the truth starts there: a new xterm takes focus
    when it is mapped, and the time before is not compared)."""
    cycle = itertools.count()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        turn = next(cycle)
        for name, session in sessions.items():
            app, window = windows[name][turn % 2]
            if name in current:
                shown, since = current[name]
                if shown == app:
                    continue
            session.focus(window)  # returns once the focus is confirmed
            now = time.time()
            began.setdefault(name, now)
            if name in current:
                shown, since = current[name]
                truth[(name, shown)] += now - since
            current[name] = (app, now)
            session.type_text("ab")
        time.sleep(max(0.0, min(SWITCH_EVERY, deadline - time.monotonic())))


def run() -> dict[str, float]:
    outage = float(os.environ.get("BENCH_OUTAGE_SECONDS", "600"))
    figures: dict[str, float] = {"outage_seconds": outage}
    # its own cluster; mkdtemp's directory, as the test fixture's (the server's user enters it)
    pg_root = Path(tempfile.mkdtemp(prefix="presence-bench-outage-pg-"))
    root = Path(tempfile.mkdtemp(prefix="presence-bench-outage-"))
    server = start_server(pg_root)
    try:
        name = server.create_database()
        url = server.url(name)
        with x_server() as x1, x_server() as x2:
            sessions = {"alpha": XSession(x1), "beta": XSession(x2)}
            try:
                _record(server, url, root, sessions, outage, figures)
            finally:
                for session in sessions.values():
                    session.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(pg_root, ignore_errors=True)
    return figures


def _record(
    server: Any,
    url: str,
    root: Path,
    sessions: dict[str, XSession],
    outage: float,
    figures: dict[str, float],
) -> None:
    daemons = {
        name: DaemonProcess(
            root / name,
            without_bus(session.env),
            f'[device]\nname = "{name}"\n[database]\nurl = "{url}"\n',
        )
        for name, session in sessions.items()
    }
    windows: dict[str, list[tuple[str, int]]] = {}
    truth: dict[tuple[str, str], float] = defaultdict(float)
    current: dict[str, tuple[str, float]] = {}
    began: dict[str, float] = {}
    try:
        for name, daemon in daemons.items():
            daemon.start()
            daemon.wait_for_log("using x11")
            windows[name] = [
                (app, sessions[name].spawn_xterm(app, f"{app} window")[1])
                for app in (f"{name}-editor", f"{name}-browser")
            ]
        _work(sessions, windows, truth, current, BEFORE, began)
        server.stop()
        try:
            _work(sessions, windows, truth, current, outage, began)
        finally:
            server.start()
        back = time.monotonic()
        for daemon in daemons.values():
            daemon.wait_for_log("replayed", timeout=120)
        figures["outage_replayed_within_s"] = time.monotonic() - back
        _work(sessions, windows, truth, current, BEFORE, began)
        for name, daemon in daemons.items():
            shown, since = current.pop(name)
            now = time.time()
            truth[(name, shown)] += now - since
            assert daemon.stop(signal.SIGTERM) == 0
    finally:
        for daemon in daemons.values():
            daemon.kill()
    replayed = [
        int(n) for d in daemons.values() for n in re.findall(r"replayed (\d+) spooled", d.log())
    ]
    figures["outage_spans_replayed"] = float(sum(replayed))
    _judge(spans_by_device(url), truth, began, figures)


def _judge(
    rows: dict[str, list[Any]],
    truth: dict[tuple[str, str], float],
    began: dict[str, float],
    figures: dict[str, float],
) -> None:
    duplicates = 0
    worst = 0.0
    for name, mine in rows.items():
        duplicates += len(mine) - len({r.uid for r in mine})
        ordered = sorted(mine, key=lambda r: r.start_ts)
        duplicates += sum(1 for a, b in itertools.pairwise(ordered) if b.start_ts < a.end_ts - 1e-3)
        for (device, app), seconds in truth.items():
            if device != name:
                continue
            active = [r for r in mine if r.app == app and SpanState(r.state) is SpanState.ACTIVE]
            recorded = sum(max(0.0, r.end_ts - max(r.start_ts, began[name])) for r in active)
            worst = max(worst, abs(recorded - seconds))
            print(f"   {name} {app}: recorded {recorded:.1f} s, truth {seconds:.1f} s")
    figures["outage_duplicates"] = float(duplicates)
    figures["outage_max_error_s"] = worst
    print(
        f"outage: 2 daemons, server stopped {figures['outage_seconds']:.0f} s: "
        f"{figures['outage_spans_replayed']:.0f} spooled spans replayed within "
        f"{figures['outage_replayed_within_s']:.1f} s of the server's return, per-app max "
        f"error {worst:.2f} s, {duplicates} duplicate spans"
    )


if __name__ == "__main__":
    run()
