"""Timeline: the property test of tests/unit/test_timeline_property.py, run much longer.

The real Timeline and Recorder against the tick-aware reference (tests/unit/
timeline_reference.py) over BENCH_TIMELINE_EXAMPLES random scripts (default 10,000) of up to
10 minutes each, seeded by BENCH_TIMELINE_SEED (default 0) so a failure can be replayed.
Every failure is counted (not shrunk); the first one is printed.
"""

from __future__ import annotations

import os
import time

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.unit.timeline_reference import Script, check, scripts


def run() -> dict[str, float]:
    examples = int(os.environ.get("BENCH_TIMELINE_EXAMPLES", "10000"))
    failures: list[str] = []
    ran = 0

    @seed(int(os.environ.get("BENCH_TIMELINE_SEED", "0")))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(script=scripts(max_seconds=600), crash=st.integers(0, 1200))
    def each(script: Script, crash: int) -> None:
        nonlocal ran
        ran += 1
        try:
            check(script, crash_at=crash)
        except AssertionError as exc:
            if not failures:
                print(f"   first failure: {script!r} crash_at={crash}\n   {exc}")
            failures.append(str(exc))

    started = time.monotonic()
    each()
    seconds = time.monotonic() - started
    print(f"   {ran} scripts, {len(failures)} failures, {seconds:.0f} s")
    return {"examples": float(ran), "failures": float(len(failures)), "seconds": seconds}
