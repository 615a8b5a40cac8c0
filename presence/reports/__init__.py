"""Reports: what the screen was used for in a local day, week, month or range, from the store.

Days start at `reports.day_start` and weeks at `reports.week_start`, in the user's zone, so a
DST day is 23 or 25 hours long and its totals are still right (bounds are computed in local
time and converted to UTC; spans are stored in UTC and clipped to the bounds in SQL).

Modules: `periods` (bounds), `usage` (totals per state and app), `overview` (the full report),
`activity` (per-day, heat map, sessions, switches), `adherence` (from the enforcement log),
`gaps` (when presence was not recording), `trends` (week over week), `html` (the HTML file).
"""

from presence.reports.overview import Report, build_report
from presence.reports.periods import (
    WEEKDAYS,
    Period,
    day_period,
    month_period,
    previous_period,
    range_period,
    report_day,
    week_period,
)
from presence.reports.trends import Trends, trends
from presence.reports.usage import NO_WINDOW, AppUsage, UsageReport, device_names

__all__ = [
    "NO_WINDOW",
    "WEEKDAYS",
    "AppUsage",
    "Period",
    "Report",
    "Trends",
    "UsageReport",
    "build_report",
    "day_period",
    "device_names",
    "month_period",
    "previous_period",
    "range_period",
    "report_day",
    "trends",
    "week_period",
]
