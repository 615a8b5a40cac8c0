"""Everyday commands' wall time and peak RSS, as ratios to `python -c pass` in the same run.

`presence status` (text and waybar) with a real daemon running (no display: a blind daemon
still keeps the snapshot), and `presence today` / `presence report --week` on the month of
synthetic history benchmarks/reports.py generates. Each command runs as a subprocess of the
same interpreter (wall: median of RUNS; peak RSS of the child from wait4), and so does
`python -c pass`, so a loaded machine shows in both and the ratio stays comparable.
Targets (issue 13): status <= 80 ms and <= 20 MB; today and report --week <= 300 ms.
`import typer` and `import sqlalchemy` alone are measured too: the floors under the full
command, which today and report --week also run through once more (PRESENCE_FULL_CLI=1) to
show what their Typer-free path (presence.cli.report_fast) saves.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.timing import timed

RUNS = 9
_TYPER = "import typer, typer._adapters"
"""Typer 0.29 builds a pydantic TypeAdapter per parameter (typer._adapters) on every run."""


def _time(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of `python ARGS`."""
    return timed([sys.executable, *args], env)


def _measure(label: str, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    runs = [_time(args, env) for _ in range(RUNS)]
    return statistics.median(w for w, _ in runs), max(r for _, r in runs)


def _daemon(root: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """A blind daemon (no display, no bus) with private XDG dirs, once its snapshot exists."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "PRESENCE_CONFIG")
    }
    env.update(
        XDG_CONFIG_HOME=str(root / "cfg"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_RUNTIME_DIR=str(root / "run"),
        DBUS_SYSTEM_BUS_ADDRESS="unix:path=/nonexistent/presence-bench-bus",
    )
    (root / "run").mkdir(mode=0o700)
    proc = subprocess.Popen(
        [sys.executable, "-m", "presence", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    snapshot = root / "run" / "presence" / "status.json"
    deadline = time.monotonic() + 60
    while not snapshot.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the daemon wrote no status snapshot")
        time.sleep(0.1)
    return proc, env


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    base_env = dict(os.environ)
    base, base_rss = _measure("pass", ["-c", "pass"], base_env)
    figures["python_pass_s"], figures["python_pass_rss_mb"] = base, base_rss
    print(f"cli speed: python -c pass: {base * 1000:.0f} ms, {base_rss:.0f} MB")

    def record(key: str, label: str, args: list[str], env: dict[str, str]) -> None:
        wall, rss = _measure(label, args, env)
        figures[f"{key}_s"], figures[f"{key}_rss_mb"] = wall, rss
        figures[f"{key}_ratio"] = wall / base
        print(
            f"cli speed: {label}: {wall * 1000:.0f} ms ({wall / base:.1f}x python -c pass), "
            f"peak RSS {rss:.0f} MB"
        )

    with tempfile.TemporaryDirectory(prefix="presence-cli-speed-") as tmp:
        proc, env = _daemon(Path(tmp))
        try:
            record("status", "presence status", ["-m", "presence", "status"], env)
            record(
                "status_waybar",
                "presence status --format waybar",
                ["-m", "presence", "status", "--format", "waybar"],
                env,
            )
        finally:
            proc.terminate()
            proc.wait(30)

    # Imported only now: it loads presence.store, and a child forked from a bigger parent
    # counts the parent's pages in its peak RSS until it execs.
    from benchmarks.reports import LAST_DAY, OUT, history  # noqa: PLC0415

    db, _ = history(31)
    config = OUT / "cli-speed-config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[device]\nname = "bench"\n'
        '[reports]\ntimezone = "Europe/Berlin"\n'
    )
    env = {**base_env, "PRESENCE_CONFIG": str(config)}
    # The floors under today and report: what importing their libraries alone costs here.
    record("import_typer", "import typer (+ pydantic, which it loads)", ["-c", _TYPER], env)
    record("import_sqlalchemy", "import sqlalchemy", ["-c", "import sqlalchemy"], env)
    week = ["-m", "presence", "report", "--week", "--date", LAST_DAY.isoformat()]
    record("today", "presence today (1 month of history)", ["-m", "presence", "today"], env)
    record("report_week", "presence report --week (1 month of history)", week, env)
    # The same two through the full command (Typer, SQLAlchemy): what the fast path saves.
    full = {**env, "PRESENCE_FULL_CLI": "1"}
    record("today_full", "presence today, full command", ["-m", "presence", "today"], full)
    record("report_week_full", "presence report --week, full command", week, full)
    return figures


if __name__ == "__main__":
    run()
