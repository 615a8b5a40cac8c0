"""`presence import activitywatch` on a year of ActivityWatch history (issue 13's target:
about 700k events in <= 60 s, in constant memory).

The database is the one benchmarks/activitywatch.py writes with aw-core's own storage from
the generated year (benchmarks/out/aw-v<N>-h<M>-365d/...; run that benchmark first, or set
BENCH_AW_IMPORT_DB). The real CLI imports it into a fresh presence database as a subprocess:
wall time and peak RSS (wait4) of a dry run (reading and merging only) and of the import; the
8-day database the same way shows that memory does not grow with the history.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from benchmarks.timing import timed

OUT = Path(__file__).parent / "out"


def _database(days: int) -> Path | None:
    found = sorted(OUT.glob(f"aw-v*-{days}d/data/activitywatch/aw-server/peewee-sqlite.v2.db"))
    return found[-1] if found else None


def _run(args: list[str], root: Path) -> tuple[float, float]:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(root / "cfg"),
        "XDG_DATA_HOME": str(root / "data"),
        "XDG_RUNTIME_DIR": str(root / "run"),
    }
    env.pop("PRESENCE_CONFIG", None)
    return timed([sys.executable, "-m", "presence", *args], env)


def run() -> dict[str, float]:
    figures: dict[str, float] = {}
    for days in (8, 365):
        given = os.environ.get("BENCH_AW_IMPORT_DB") if days == 365 else None
        db = Path(given) if given else _database(days)
        if db is None or not db.exists():
            print(f"aw import: no {days}-day ActivityWatch database; run the activitywatch one")
            continue
        with tempfile.TemporaryDirectory(prefix="presence-aw-import-") as tmp:
            for label, extra in (("dry_run", ["--dry-run"]), ("import", [])):
                wall, rss = _run(["import", "activitywatch", str(db), *extra], Path(tmp))
                figures[f"{days}d_{label}_s"], figures[f"{days}d_{label}_rss_mb"] = wall, rss
                print(f"aw import ({days} days) {label}: {wall:.1f} s, peak RSS {rss:.0f} MB")
    return figures


if __name__ == "__main__":
    run()
