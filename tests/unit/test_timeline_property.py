"""The real timeline and recorder against the simple reference, over random scripts.

Seeded and bounded (derandomized, a fixed number of examples) so the unit suite stays fast and
repeatable; `make bench` runs many more (benchmarks/timeline.py). The reference is tick-aware,
so recorded time must equal it exactly, not within a tick (tests/unit/timeline_reference.py).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.timeline_reference import Script, check, scripts

EXAMPLES = 1000


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(script=scripts(), crash=st.integers(0, 400))
def test_the_timeline_records_what_the_reference_says(script: Script, crash: int) -> None:
    check(script, crash_at=crash)


# Shrunk failing examples, found by the property test against the code before issue 15.


def _shrunk(**fields: Any) -> Script:
    """A shrunk example: hypothesis's smallest settings, with the fields that made it fail."""
    base: dict[str, Any] = dict(
        interval=500,
        idle_after=5000,
        gap_after=1000,
        max_span=3_600_000,
        flush_every=1000,
        wake_latency=0,
    )
    return Script(**{**base, **fields})


def test_idle_noticed_at_a_focus_change_stays_with_the_earlier_window() -> None:
    """Idle first seen at the tick that sees a new window: the old span was relabelled."""
    check(_shrunk(end=1, initial_idle=4999, focus=((1, 1),)), crash_at=1)


def test_a_focus_change_while_idle_is_placed_at_the_tick() -> None:
    """Already idle, the window changes: the old code back-dated the change to the last input."""
    check(_shrunk(end=1, initial_idle=5000, focus=((1, 1),)), crash_at=1)


def test_an_open_span_turned_idle_in_place_is_written_at_once() -> None:
    """The recorder wrote the open span only when its id changed: a crash kept it active."""
    check(_shrunk(end=5000, initial_idle=0, stalls=((0, 1001),)), crash_at=0)
