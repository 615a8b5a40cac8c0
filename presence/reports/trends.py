"""Week-over-week trends (`presence trends`): totals per week and active time per category.

Each week is one grouped query (usage per app, title and state, summed in SQL), so N weeks
cost N + 1 small queries (one more for the change of the first week) and flat memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from presence.reports.overview import Totals, group
from presence.reports.periods import Period, week_period
from presence.settings.schema import ReportSettings
from presence.store.reads import ReportSource
from presence.tracking.categories import categorizer


@dataclass(slots=True)
class WeekTrend:
    period: Period
    totals: Totals
    categories: dict[str, float]  # active seconds per category
    previous_active_seconds: float = 0.0

    @property
    def change_seconds(self) -> float:
        return self.totals.active_seconds - self.previous_active_seconds

    @property
    def change_ratio(self) -> float | None:
        before = self.previous_active_seconds
        return None if before <= 0 else (self.totals.active_seconds - before) / before


@dataclass(slots=True)
class Trends:
    devices: list[str]
    weeks: list[WeekTrend] = field(default_factory=list)

    @property
    def categories(self) -> list[str]:
        """Every category seen, most active over all weeks first."""
        total: dict[str, float] = {}
        for week in self.weeks:
            for name, seconds in week.categories.items():
                total[name] = total.get(name, 0.0) + seconds
        return sorted(total, key=lambda n: (-total[n], n))

    def series(self, name: str) -> list[float]:
        return [w.categories.get(name, 0.0) for w in self.weeks]

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON form (docs/reports.md, `presence trends`)."""
        names = self.categories
        return {
            "devices": self.devices,
            "categories": names,
            "weeks": [
                {
                    "start": w.period.local(w.period.start).isoformat(),
                    "end": w.period.local(w.period.end).isoformat(),
                    "label": w.period.label,
                    "active_seconds": round(w.totals.active_seconds, 3),
                    "idle_seconds": round(w.totals.idle_seconds, 3),
                    "locked_seconds": round(w.totals.locked_seconds, 3),
                    "previous_active_seconds": round(w.previous_active_seconds, 3),
                    "change_seconds": round(w.change_seconds, 3),
                    "change_ratio": None if w.change_ratio is None else round(w.change_ratio, 4),
                    "categories": {n: round(w.categories.get(n, 0.0), 3) for n in names},
                }
                for w in self.weeks
            ],
        }


def trends(
    store: ReportSource,
    last_day: date,
    weeks: int,
    zone: Any,
    device_names: list[str],
    settings: ReportSettings,
) -> Trends:
    """The `weeks` weeks ending with the one containing `last_day`, oldest first."""
    queries = store.report_queries()
    found = [d for d in (store.find_device(n) for n in device_names) if d is not None]
    ids = [d.id for d in found]
    categories = categorizer(queries)
    result = Trends([d.name for d in found])
    previous = 0.0
    for back in range(weeks, -1, -1):
        period = week_period(last_day - timedelta(days=7 * back), zone, settings)
        grouped = group(queries.title_usage(period.start, period.end, ids), categories)
        if back < weeks:
            result.weeks.append(
                WeekTrend(
                    period,
                    grouped.totals,
                    {n: s.active_seconds for n, s in grouped.categories.items()},
                    previous,
                )
            )
        previous = grouped.totals.active_seconds
    return result
