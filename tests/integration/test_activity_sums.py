"""The report's activity summed by PostgreSQL (presence.store.activity_sums, folded by
presence.reports.activity_sums) equals activity.scan's pass over the same rows (issue 12):
random spans of several devices around the period's edges, with and without a recorded
offset, on a real PostgreSQL; and the whole report's JSON is the same by both paths."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from presence.core.model import Span, SpanState
from presence.reports import build_report, week_period
from presence.reports.activity import Activity, scan
from presence.reports.activity_sums import server_activity
from presence.reports.overview import LIVED_MARGIN
from presence.reports.periods import Period, day_period, range_period
from presence.settings.schema import ReportSettings
from presence.store import Store
from tests.unit.test_household_report import DEVICES, WEEK, fill

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
APPS = ["firefox", "Code", "Slack", None]
OFFSETS = [0, 3600, 7200, -4 * 3600, 9 * 3600, 12 * 3600 + 2700]


@pytest.fixture(scope="module")
def store(postgres_server: Any) -> Iterator[Store]:
    """One database for the module: each example empties its spans (a new database per
    hypothesis example would cost more than the example)."""
    if postgres_server.process is None or postgres_server.process.poll() is not None:
        postgres_server.start()
    name = postgres_server.create_database()
    opened = Store.open(postgres_server.url(name))
    try:
        for n in range(3):
            opened.device(f"d{n}", "h", datetime(2026, 1, 1, tzinfo=UTC))
        yield opened
    finally:
        opened.close()
        postgres_server.drop_database(name)


@st.composite
def spans_of_a_device(draw: st.DrawFn, period: Period) -> list[Span]:
    """Runs of spans starting near the period's edges (or inside it): at most an hour long
    (0 too), back to back, apart or overlapping, starts strictly increasing, on a 1/4 s grid."""
    found: list[Span] = []
    anchors = [period.start, period.end, period.start + (period.end - period.start) / 2]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.sampled_from(anchors)) + timedelta(
            seconds=draw(st.integers(-16 * 3600, 3 * 3600))
        )
        if found and at <= found[-1].start:
            at = found[-1].start + timedelta(seconds=0.25)
        offset = draw(st.sampled_from(OFFSETS))
        for _ in range(draw(st.integers(1, 12))):
            length = draw(st.sampled_from([0.0, 0.25, 17.5, 290.0, 1800.0, 3599.75, 3600.0]))
            state = draw(
                st.sampled_from([SpanState.ACTIVE] * 3 + [SpanState.IDLE, SpanState.LOCKED])
            )
            app = draw(st.sampled_from(APPS))
            title = draw(st.sampled_from(["a", "b", None]))
            if draw(st.integers(0, 5)) == 0:
                offset = draw(st.sampled_from(OFFSETS))  # travel, or an import without one
            site = "example.org" if app == "firefox" else None
            end = at + timedelta(seconds=length)
            found.append(Span(at, end, app, title, state, offset, site=site))
            gap = draw(st.sampled_from([0.0, 0.0, 10.0, 29.75, 30.0, 299.75, 300.0, 301.0, 4000.0]))
            if draw(st.integers(0, 6)) == 0:  # overlapping the next one (imported data)
                gap = -length + 0.25 if length > 0.25 else 0.25
            at = end + timedelta(seconds=max(gap, 0.25 - length))
    return found


@st.composite
def cases(draw: st.DrawFn) -> tuple[Period, ReportSettings, list[list[Span]]]:
    report = ReportSettings(
        timezone="Europe/Berlin",
        day_start=draw(st.sampled_from(["00:00", "04:00", "04:30", "23:15"])),
        session_break=draw(st.sampled_from([30.0, 300.0, 1200.0])),
    )
    first = draw(st.sampled_from([date(2026, 3, 28), date(2026, 10, 24), date(2026, 6, 10)]))
    kind = draw(st.sampled_from(["day", "range"]))
    if kind == "day":
        period = day_period(first, BERLIN, report)
    else:
        period = range_period(first, first + timedelta(days=2), BERLIN, report)
    devices = draw(st.integers(1, 3))
    return period, report, [draw(spans_of_a_device(period)) for _ in range(devices)]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def assert_same(server: Activity, reference: Activity) -> None:
    assert len(server.days) == len(reference.days)
    for day, expected in zip(server.days, reference.days, strict=True):
        assert (day.day, day.start, day.end) == (expected.day, expected.start, expected.end)
        assert close(day.active_seconds, expected.active_seconds), (day, expected)
        assert close(day.idle_seconds, expected.idle_seconds), (day, expected)
        assert close(day.locked_seconds, expected.locked_seconds), (day, expected)
    for hours, wanted in zip(server.heat, reference.heat, strict=True):
        assert all(close(a, b) for a, b in zip(hours, wanted, strict=True)), (hours, wanted)
    assert server.sessions == reference.sessions
    assert server.switches == reference.switches
    assert close(server.session_seconds, reference.session_seconds)
    assert close(server.active_seconds, reference.active_seconds)
    assert (server.longest is None) == (reference.longest is None)
    if server.longest is not None and reference.longest is not None:
        assert server.longest.start == reference.longest.start
        assert server.longest.end == reference.longest.end
    ours = {(t.app, t.title, t.state, t.site): t.seconds for t in server.titles}
    theirs = {(t.app, t.title, t.state, t.site): t.seconds for t in reference.titles}
    assert ours.keys() == theirs.keys()
    assert all(close(ours[k], theirs[k]) for k in ours), (ours, theirs)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_the_servers_sums_equal_the_pass_over_every_span(
    store: Store, case: tuple[Period, ReportSettings, list[list[Span]]]
) -> None:
    period, report, devices = case
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM spans"))
    ids = []
    for n, spans in enumerate(devices):
        device = store.find_device(f"d{n}")
        assert device is not None
        store.save_spans(device.id, None, spans)
        ids.append(device.id)
    start, end = period.start - LIVED_MARGIN, period.end + LIVED_MARGIN
    # by start, then device: spans of two devices starting at once but clipped to different
    # starts (offsets apart) make scan's result depend on their order, which PostgreSQL leaves
    # open; activity_sums reads them in this order
    rows = sorted(store.report_queries(None).span_rows(start, end, ids), key=lambda r: r[:3:2])
    reference = scan(rows, period, report, report.session_break)
    server = server_activity(store, period, report, ids, None, start, end)
    assert_same(server, reference)


class Streamed:
    """The same PostgreSQL store, saying it is not one: build_report then streams every span
    into activity.scan, as before the server's sums."""

    dialect = "streamed"

    def __init__(self, store: Store) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.mark.parametrize("people", [None, ["ana"]])
def test_the_report_is_the_same_by_both_paths(pg_url: str, people: list[str] | None) -> None:
    """`presence report --format json` (build_report's dict) of a household's week: three
    devices, two people on one PC, a span lived in New York, one recorded without an offset."""
    report = ReportSettings(timezone="Europe/Berlin")
    store = Store.open(pg_url)
    try:
        fill(store)
        now = WEEK.end + timedelta(days=1)
        summed = build_report(store, WEEK, DEVICES, now, report, people).to_dict()
        streamed = build_report(Streamed(store), WEEK, DEVICES, now, report, people)
        assert summed["totals"]["active_seconds"] > 0
        assert summed["sessions"]["count"] > 0
        assert summed == streamed.to_dict()
    finally:
        store.close()


def test_the_week_before_a_spring_forward_is_the_same_by_both_paths(pg_url: str) -> None:
    report = ReportSettings(timezone="Europe/Berlin", day_start="04:30", session_break=120)
    period = week_period(date(2026, 3, 25), BERLIN, report)
    store = Store.open(pg_url)
    try:
        from tests.integration.test_report_backends import household_spans  # noqa: PLC0415

        for n, name in enumerate(("laptop", "desk")):
            device = store.device(name, "h", datetime.now(UTC))
            store.save_spans(device.id, None, household_spans(period.start, period.end, n))
        now = period.end + timedelta(days=1)
        summed = build_report(store, period, ["laptop", "desk"], now, report).to_dict()
        streamed = build_report(Streamed(store), period, ["laptop", "desk"], now, report)
        assert summed["switches"]["count"] > 0
        assert summed == streamed.to_dict()
    finally:
        store.close()
