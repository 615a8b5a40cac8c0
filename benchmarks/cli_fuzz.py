"""The CLI fuzz, longer than in the unit suite (issue 11): every known extreme through every
command that takes a value, then 40 generated values per command. Fails (AssertionError) on
an undocumented exit status, an internal error, or a refused command that wrote."""

from __future__ import annotations

import time

from tests.unit import cli_fuzz


def run() -> dict[str, float]:
    started = time.monotonic()
    extremes = 0
    with cli_fuzz.fuzz_home() as home:
        for name in cli_fuzz.COMMANDS:
            for value in cli_fuzz.EXTREMES:
                cli_fuzz.check(home, name, value)
                extremes += 1
    counts = cli_fuzz.run(examples=40, seed=int(time.time()) % 100_000)
    return (
        {"extreme_cases": float(extremes)}
        | counts
        | {"seconds": round(time.monotonic() - started, 1)}
    )
