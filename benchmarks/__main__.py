"""`make bench`: run every benchmark, print its figures, keep them in benchmarks/out/.

BENCH_ONLY=storage,daemon runs a subset; BENCH_COST_SECONDS shortens the daemon cost run.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import time
from pathlib import Path

BENCHMARKS = [
    "storage",
    "daemon",
    "reports",
    "rules",
    "activitywatch",
    "aw_import",
    "timeline",
    "wayland_sway",
    "wayland_kwin",
    "cli_fuzz",
    "wayland_gnome",
    "cli_speed",
    "household",
]


def main() -> None:
    only = [b for b in os.environ.get("BENCH_ONLY", "").split(",") if b]
    results: dict[str, dict[str, float]] = {}
    for name in BENCHMARKS:
        if only and name not in only:
            continue
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"benchmarks.{name}":
                continue  # not written yet
            raise
        print(f"== {name}")
        started = time.monotonic()
        results[name] = module.run()
        print(f"   ({time.monotonic() - started:.0f} s)")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    record = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "results": results,
    }
    (out / "latest.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"figures written to {out / 'latest.json'}")


if __name__ == "__main__":
    main()
