"""The full report of a period (`presence report`): totals and their change against the
previous period, per-day totals, apps and categories with their change, the heat map,
sessions and switches, adherence, and when presence was not recording.

The store is read in one streamed pass over the period's spans (ordered; see activity.scan),
one grouped query over the previous period (summed in SQL), and the runs, pauses and log, so
memory stays flat however long the history is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from presence.reports.activity import Activity, scan
from presence.reports.activity_sums import server_activity
from presence.reports.adherence import Adherence, adherence
from presence.reports.gaps import Gap, Gaps, find_gaps
from presence.reports.periods import WEEKDAYS, Period, previous_period
from presence.reports.usage import NO_WINDOW, AppUsage, UsageReport
from presence.settings.schema import ReportSettings
from presence.store.reads import ReportSource
from presence.store.rows import TitleUsage
from presence.tracking.categories import Categorizer, categorizer

if TYPE_CHECKING:  # built only by the CLI's household path (issue 12), never here
    from presence.reports.household import Household


@dataclass(slots=True)
class Totals:
    """Seconds per state: of a period, or of one device, person or zone (reports.household)."""

    active_seconds: float = 0.0
    idle_seconds: float = 0.0
    locked_seconds: float = 0.0

    @property
    def recorded_seconds(self) -> float:
        return self.active_seconds + self.idle_seconds + self.locked_seconds

    def add(self, state: str, seconds: float) -> None:
        if state == "active":
            self.active_seconds += seconds
        elif state == "locked":
            self.locked_seconds += seconds
        else:  # idle, and any state an older or newer version wrote (reports count it idle)
            self.idle_seconds += seconds

    def to_dict(self) -> dict[str, float]:
        return {
            "active_seconds": round(self.active_seconds, 3),
            "idle_seconds": round(self.idle_seconds, 3),
            "locked_seconds": round(self.locked_seconds, 3),
            "recorded_seconds": round(self.recorded_seconds, 3),
        }


@dataclass(slots=True)
class Share:
    """An app's or a category's seconds, and its active seconds in the previous period."""

    name: str
    active_seconds: float = 0.0
    idle_seconds: float = 0.0
    previous_active_seconds: float = 0.0
    category: str | None = None  # for apps: the category of most of its active time

    @property
    def change_seconds(self) -> float:
        return self.active_seconds - self.previous_active_seconds


@dataclass(slots=True)
class Grouped:
    """One pass of TitleUsage folded into totals, apps and categories."""

    totals: Totals = field(default_factory=Totals)
    apps: dict[str, Share] = field(default_factory=dict)
    categories: dict[str, Share] = field(default_factory=dict)
    app_categories: dict[str, dict[str, float]] = field(default_factory=dict)
    sites: dict[str, Share] = field(default_factory=dict)


LIVED_MARGIN = timedelta(hours=14)
"""How far from the report's zone a span's recorded zone may be and still be placed in the
hours it was lived (14 h: Kiribati to UTC; further trips are cut at the period's edges)."""


def group(rows: Iterable[TitleUsage], categories: Categorizer) -> Grouped:
    out = Grouped()
    seen: dict[str, dict[str, float]] = {}  # every category of each app, idle time too
    for row in rows:
        if row.state == "locked":
            out.totals.locked_seconds += row.seconds
            continue
        app = row.app or NO_WINDOW
        entry = out.apps.get(app) or out.apps.setdefault(app, Share(app))
        name = categories.categorize(row.app, row.title, row.site)
        any_state = seen.setdefault(app, {})
        any_state[name] = any_state.get(name, 0.0) + row.seconds
        category = out.categories.get(name) or out.categories.setdefault(name, Share(name))
        site = None
        if row.site:
            site = out.sites.get(row.site) or out.sites.setdefault(row.site, Share(row.site))
            site.category = name
        if row.state == "active":
            out.totals.active_seconds += row.seconds
            entry.active_seconds += row.seconds
            category.active_seconds += row.seconds
            per_app = out.app_categories.setdefault(app, {})
            per_app[name] = per_app.get(name, 0.0) + row.seconds
            if site is not None:
                site.active_seconds += row.seconds
        else:
            out.totals.idle_seconds += row.seconds
            entry.idle_seconds += row.seconds
            category.idle_seconds += row.seconds
            if site is not None:
                site.idle_seconds += row.seconds
    for app, entry in out.apps.items():
        # the category of most of its active time; an app with none (only idle, or 0 s) gets
        # the one of most of its time, as `presence categories test` would say (issue 11)
        shares = out.app_categories.get(app) or seen[app]
        entry.category = max(shares, key=lambda n: (shares[n], n))
    return out


def _ranked(items: Iterable[Share]) -> list[Share]:
    return sorted(items, key=lambda s: (-s.active_seconds, -s.idle_seconds, s.name))


def _ratio(now: float, before: float) -> float | None:
    return None if before <= 0 else round((now - before) / before, 4)


@dataclass(slots=True)
class Report:
    """Everything `presence report` shows. `usage` keeps the original JSON keys."""

    usage: UsageReport
    previous: Period
    previous_totals: Totals
    apps: list[Share]
    categories: list[Share]
    activity: Activity
    adherence: Adherence
    gaps: Gaps
    week_start: str = "monday"
    sites: list[Share] = field(default_factory=list)  # browser sites (issue 14), most active first
    household: Household | None = None  # per device, person and zone (issue 12); see household

    @property
    def period(self) -> Period:
        return self.usage.period

    @property
    def has_previous(self) -> bool:
        """Whether anything was recorded in the previous period (else changes mean little)."""
        return self.previous_totals.recorded_seconds > 0

    @property
    def previous_name(self) -> str:
        """`the week before`, `the 10 days before`...: what changes are measured against."""
        kind = self.period.kind
        if kind == "range":
            return f"the {self.period.days} days before"
        return f"the {kind} before"

    @property
    def other_unrecorded_seconds(self) -> float:
        """Running but nothing recorded: suspended, screen unreadable, or lost on a crash."""
        known = self.gaps.not_running_seconds + self.gaps.paused_seconds
        return max(0.0, self.usage.unrecorded_seconds - known)

    @property
    def weekdays(self) -> list[int]:
        """Weekday numbers (0 = Monday) in report order, the configured first day first."""
        first = WEEKDAYS.index(self.week_start)
        return [(first + i) % 7 for i in range(7)]

    def weeks(self) -> list[tuple[date, Totals]]:
        """Per-day totals summed per report week (for long periods), oldest first."""
        first_day = WEEKDAYS.index(self.week_start)
        weeks: dict[date, Totals] = {}
        for day in self.activity.days:
            first = day.day - timedelta(days=(day.day.weekday() - first_day) % 7)
            entry = weeks.setdefault(first, Totals())
            entry.active_seconds += day.active_seconds
            entry.idle_seconds += day.idle_seconds
            entry.locked_seconds += day.locked_seconds
        return list(weeks.items())

    def _share(self, share: Share, key: str, total: float) -> dict[str, Any]:
        data: dict[str, Any] = {
            key: share.name,
            "active_seconds": round(share.active_seconds, 3),
            "idle_seconds": round(share.idle_seconds, 3),
        }
        if key in ("app", "site"):
            data["category"] = share.category
        data["share"] = round(share.active_seconds / total, 4) if total > 0 else 0.0
        data["previous_active_seconds"] = round(share.previous_active_seconds, 3)
        data["change_seconds"] = round(share.change_seconds, 3)
        return data

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/reports.md). Keys are only ever added."""
        period, previous, usage = self.period, self.previous, self.usage
        data = usage.to_dict()
        data["period"].update(
            kind=period.kind,
            days=period.days,
            timezone=str(getattr(period.zone, "key", period.zone)),
        )
        before = self.previous_totals
        data["previous"] = {
            "period": {
                "start": previous.local(previous.start).isoformat(),
                "end": previous.local(previous.end).isoformat(),
                "label": previous.label,
                "hours": round(previous.hours, 3),
            },
            "totals": before.to_dict(),
        }
        data["change"] = {
            "active_seconds": round(usage.active_seconds - before.active_seconds, 3),
            "active_ratio": _ratio(usage.active_seconds, before.active_seconds),
            "idle_seconds": round(usage.idle_seconds - before.idle_seconds, 3),
            "locked_seconds": round(usage.locked_seconds - before.locked_seconds, 3),
        }
        total = usage.active_seconds
        # `apps` keeps its original three keys per entry (tests and scripts compare them);
        # `apps_detail` lists the same apps with category, share and change.
        data["apps_detail"] = [self._share(s, "app", total) for s in self.apps]
        data["categories"] = [self._share(s, "category", total) for s in self.categories]
        data["sites"] = [self._share(s, "site", total) for s in self.sites]
        activity = self.activity
        data["days"] = [d.to_dict(period) for d in activity.days]
        data["heatmap"] = {
            "weekdays": [WEEKDAYS[w] for w in self.weekdays],
            "active_seconds": [[round(s, 3) for s in activity.heat[w]] for w in self.weekdays],
        }
        data["hourly_active_seconds"] = [round(s, 3) for s in activity.hourly]
        longest = activity.longest
        data["sessions"] = {
            "count": activity.sessions,
            "break_seconds": activity.session_break,
            "total_seconds": round(activity.session_seconds, 3),
            "average_seconds": round(activity.session_seconds / activity.sessions, 3)
            if activity.sessions
            else 0.0,
            "longest": None
            if longest is None
            else {
                "start": period.local(longest.start).isoformat(),
                "end": period.local(longest.end).isoformat(),
                "seconds": round(longest.seconds, 3),
            },
        }
        data["switches"] = {
            "count": activity.switches,
            "per_active_hour": round(activity.switches_per_active_hour, 2),
        }
        data["adherence"] = self.adherence.to_dict()
        data["not_recording"] = self.gaps.to_dict(period.zone)
        data["not_recording"]["other_seconds"] = round(self.other_unrecorded_seconds, 3)
        data["household"] = None if self.household is None else self.household.to_dict()
        return data


def build_report(
    store: ReportSource,
    period: Period,
    device_names: list[str],
    now: datetime,
    settings: ReportSettings,
    people: Sequence[str] | None = None,
) -> Report:
    """The full report of `period` on the named devices (unknown names are left out); with
    `people`, only the time of daemons they ran (issue 12: a shared PC reports each apart)."""
    queries = store.report_queries(people)
    found = [d for d in (store.find_device(n) for n in device_names) if d is not None]
    ids = [d.id for d in found]
    now = now.astimezone(UTC)
    until = min(period.end, max(period.start, now))
    usage = UsageReport(period, [d.name for d in found])
    usage.elapsed_seconds = max(0.0, (until - period.start).total_seconds()) * max(1, len(ids))
    previous = previous_period(period, settings)
    categories = categorizer(queries)
    # spans lived in the period by their own offset may lie up to LIVED_MARGIN outside it in
    # UTC (issue 10: a trip across zones); scan clips them on the lived clock
    span_from, span_to = period.start - LIVED_MARGIN, period.end + LIVED_MARGIN
    earlier: Iterable[TitleUsage]
    if getattr(store, "dialect", None) == "postgresql":  # summed by the server (issue 12)
        # The server sums the previous period's titles meanwhile, on a connection of its own
        # (about 0.15 s of a household's week report).
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - PostgreSQL only

        with ThreadPoolExecutor(max_workers=1) as pool:
            before_rows = pool.submit(
                lambda: list(queries.title_usage(previous.start, previous.end, ids))
            )
            activity = server_activity(store, period, settings, ids, people, span_from, span_to)
            earlier = before_rows.result()
    else:
        rows = queries.span_rows(span_from, span_to, ids)
        activity = scan(rows, period, settings, settings.session_break)
        earlier = queries.title_usage(previous.start, previous.end, ids)
    current = group(activity.titles, categories)
    activity.titles = []  # folded into `current`; not kept
    before = group(earlier, categories)
    usage.active_seconds = current.totals.active_seconds
    usage.idle_seconds = current.totals.idle_seconds
    usage.locked_seconds = current.totals.locked_seconds
    for name, share in current.apps.items():
        share.previous_active_seconds = (
            before.apps[name].active_seconds if name in before.apps else 0.0
        )
    for name, share in current.sites.items():
        share.previous_active_seconds = (
            before.sites[name].active_seconds if name in before.sites else 0.0
        )
    for name, share in before.categories.items():
        # A category used before but not now still shows, with its drop.
        entry = current.categories.setdefault(name, Share(name))
        entry.previous_active_seconds = share.active_seconds
    apps = _ranked(current.apps.values())
    usage.apps = [AppUsage(s.name, s.active_seconds, s.idle_seconds) for s in apps]
    runs = store.runs_between(period.start, until, ids) if ids else []
    pauses = store.pauses_between(period.start, until, ids) if ids else []
    for pause in pauses:
        end = pause.end_at() or until
        usage.paused_seconds += max(
            0.0, (min(end, until) - max(pause.start, period.start)).total_seconds()
        )
    first = store.first_runs(ids) if ids else {}
    gaps = find_gaps({d.id: d.name for d in found}, runs, pauses, period.start, until, now, first)
    for name in sorted(set(device_names) - {d.name for d in found}):
        # A device that never recorded was not running at all.
        gaps.add(Gap(name, "not running", period.start, until))
    return Report(
        usage=usage,
        previous=previous,
        previous_totals=before.totals,
        apps=apps,
        categories=_ranked(current.categories.values()),
        activity=activity,
        adherence=adherence(queries, period.start, period.end, ids),
        gaps=gaps,
        week_start=settings.week_start,
        sites=_ranked(current.sites.values()),
    )
