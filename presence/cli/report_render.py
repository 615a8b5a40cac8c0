"""Reports and trends in the terminal (rich tables and bars) and as CSV. No logic lives here:
everything shown is computed by presence.reports."""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime, tzinfo
from enum import StrEnum

from rich.console import Console
from rich.table import Table

from presence.cli.render import console
from presence.cli.render import report_csv as usage_csv
from presence.core.duration import format_duration
from presence.reports import WEEKDAYS, Report
from presence.reports.overview import Share

BLOCKS = " ▏▎▍▌▋▊▉█"
SHADES = "·░▒▓█"
BAR_WIDTH = 30
MAX_DAY_ROWS = 31
MAX_GAP_ROWS = 12


class By(StrEnum):
    app = "app"
    category = "category"
    day = "day"
    hour = "hour"
    site = "site"


def bar(value: float, most: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `value` against `most`, in eighths of a character."""
    if most <= 0 or value <= 0:
        return ""
    eighths = max(1, round(8 * width * min(value, most) / most))
    full, part = divmod(eighths, 8)
    return "█" * full + (BLOCKS[part] if part else "")


def short(seconds: float) -> str:
    """A compact duration for narrow columns: `2h05`, `21m`, `43s`."""
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    if hours:
        return f"{hours}h{rest // 60:02d}"
    return f"{rest // 60}m" if rest >= 60 else f"{rest}s"


def change_text(seconds: float, before: float) -> str:
    """`+21m (+4%)`, `-2h05 (-30%)`, `+40m (new)`; empty when nothing changed from nothing."""
    if before <= 0 and seconds == 0:
        return ""
    sign = "+" if seconds >= 0 else "-"
    ratio = f"{sign}{abs(100 * seconds / before):.0f}%" if before > 0 else "new"
    return f"{sign}{short(seconds)} ({ratio})"


def _local(when: datetime, zone: tzinfo, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    return when.astimezone(zone).strftime(fmt)


def _header(out: Console, report: Report) -> None:
    period, usage = report.period, report.usage
    zone = period.zone
    hours = f"  ({period.hours:g} h day)" if period.kind == "day" and period.hours != 24 else ""
    out.print(
        f"[bold]{period.label}[/bold]  {_local(period.start, zone)} → "
        f"{_local(period.end, zone)}{hours}"
    )
    before = report.previous_totals.active_seconds
    change = change_text(usage.active_seconds - before, before) if report.has_previous else ""
    versus = f" [dim]({change} vs {report.previous_name})[/dim]" if change else ""
    out.print(
        f"active [bold]{format_duration(usage.active_seconds)}[/bold]{versus} · "
        f"idle {format_duration(usage.idle_seconds)} · "
        f"locked {format_duration(usage.locked_seconds)}"
    )
    if usage.unrecorded_seconds >= 1:
        gaps = report.gaps
        parts = [f"not running {format_duration(gaps.not_running_seconds)}"]
        if gaps.paused_seconds >= 1:
            parts.append(f"paused {format_duration(gaps.paused_seconds)}")
        if report.other_unrecorded_seconds >= 1:
            parts.append(f"asleep or unreadable {format_duration(report.other_unrecorded_seconds)}")
        out.print(
            f"[dim]not recorded: {format_duration(usage.unrecorded_seconds)} "
            f"({', '.join(parts)})[/dim]"
        )


def _shares(
    out: Console, report: Report, items: list[Share], key: str, limit: int, *, full: bool
) -> None:
    """Apps or categories, most active first; `full` adds idle time (the --by view)."""
    if not items:
        return
    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column(key, no_wrap=True, max_width=20)
    if key in ("app", "site"):
        table.add_column("category", no_wrap=True, max_width=13)
    table.add_column("active", justify="right", no_wrap=True)
    if full:
        table.add_column("idle", justify="right", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("change", justify="right", no_wrap=True)
    if not full:
        table.add_column("", no_wrap=True)
    total = report.usage.active_seconds or 1.0
    most = max(s.active_seconds for s in items) or 1.0
    for share in items[:limit]:
        row = [share.name]
        if key in ("app", "site"):
            row.append(share.category or "")
        row.append(format_duration(share.active_seconds))
        if full:
            row.append(format_duration(share.idle_seconds))
        row += [
            f"{100 * share.active_seconds / total:.0f}%",
            change_text(share.change_seconds, share.previous_active_seconds)
            if report.has_previous
            else "",
        ]
        if not full:
            row.append(f"[cyan]{bar(share.active_seconds, most, 10)}[/cyan]")
        table.add_row(*row)
    out.print(table)
    if len(items) > limit:
        out.print(f"[dim]… and {len(items) - limit} more (--by {key}, or --format json)[/dim]")


def _days(out: Console, report: Report) -> None:
    days = report.activity.days
    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column("day" if len(days) <= MAX_DAY_ROWS else "week of")
    table.add_column("active", justify="right")
    table.add_column("", no_wrap=True)
    table.add_column("idle", justify="right")
    table.add_column("locked", justify="right")
    if len(days) <= MAX_DAY_ROWS:
        rows = [
            (f"{d.day:%a %m-%d}" + ("" if d.hours == 24 else f" ({d.hours:g} h)"), d) for d in days
        ]
        most = max((d.active_seconds for d in days), default=0.0)
        for label, d in rows:
            table.add_row(
                label,
                format_duration(d.active_seconds),
                f"[green]{bar(d.active_seconds, most)}[/green]",
                format_duration(d.idle_seconds),
                format_duration(d.locked_seconds),
            )
    else:
        weeks = report.weeks()
        most = max((t.active_seconds for _, t in weeks), default=0.0)
        for first, totals in weeks:
            table.add_row(
                first.isoformat(),
                format_duration(totals.active_seconds),
                f"[green]{bar(totals.active_seconds, most)}[/green]",
                format_duration(totals.idle_seconds),
                format_duration(totals.locked_seconds),
            )
    out.print(table)


def _heat(out: Console, report: Report) -> None:
    activity = report.activity
    if report.period.days == 1:  # one day: its hours (04:00 to 03:59 of the next date)
        rows = [(f"{activity.days[0].day:%a}", activity.hourly)]
    else:
        rows = [(WEEKDAYS[w][:3].title(), activity.heat[w]) for w in report.weekdays]
    most = max((max(values) for _, values in rows), default=0.0)
    out.print("     " + "".join(f"{hour:02d}    " for hour in range(0, 24, 3)).rstrip())
    for name, values in rows:
        cells = []
        for seconds in values:
            level = 0 if seconds <= 0 or most <= 0 else 1 + min(3, int(4 * seconds / most))
            cells.append(SHADES[level])
        out.print(f"{name}  [yellow]{' '.join(cells)}[/yellow]")
    out.print("[dim]active time per local hour: · none ░ some ▒ more ▓ much █ most[/dim]")


def _sessions(out: Console, report: Report) -> None:
    activity = report.activity
    zone = report.period.zone
    text = f"sessions: {activity.sessions}"
    if activity.sessions:
        text += f", average {short(activity.session_seconds / activity.sessions)}"
    if activity.longest is not None:
        longest = activity.longest
        text += (
            f", longest {short(longest.seconds)} "
            f"({_local(longest.start, zone, '%a %m-%d %H:%M')}-"
            f"{_local(longest.end, zone, '%H:%M')})"
        )
    out.print(text)
    out.print(
        f"app switches: {activity.switches_per_active_hour:.1f} per active hour  "
        f"[dim](a session ends after a {short(activity.session_break)} break)[/dim]"
    )


def _adherence(out: Console, report: Report) -> None:
    rules = report.adherence.rules
    if not rules:
        return
    table = Table(show_edge=False, pad_edge=False, box=None)
    for name, justify in (
        ("rule", "left"),
        ("kept", "right"),
        ("broken", "right"),
        ("open", "right"),
        ("used inside", "right"),
        ("snoozes", "right"),
        ("overrides", "right"),
        ("streak", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for rule in rules:
        table.add_row(rule.rule, *rule.cells(format_duration), f"{rule.streak} kept")
    out.print(table)


def _gaps(out: Console, report: Report) -> None:
    intervals = report.gaps.intervals
    if not intervals:
        return
    zone = report.period.zone
    shown = intervals if len(intervals) <= MAX_GAP_ROWS else intervals[-MAX_GAP_ROWS:]
    several = len(report.usage.devices) > 1
    # ISO dates; the year too when a gap (or the period) is not within one year (issue 11)
    years = {g.start.astimezone(zone).year for g in shown} | {
        g.end.astimezone(zone).year for g in shown
    }
    fmt = "%a %Y-%m-%d %H:%M" if len(years) > 1 or report.period.days > 366 else "%a %m-%d %H:%M"
    for gap in shown:
        what = gap.kind + (f" ({gap.reason})" if gap.reason else "")
        who = f"{gap.device}: " if several else ""
        out.print(
            f"  {who}{_local(gap.start, zone, fmt)} → "
            f"{_local(gap.end, zone, fmt)}  {what}, {format_duration(gap.seconds)}"
        )
    if len(intervals) > len(shown):
        out.print(f"[dim]  … {len(intervals) - len(shown)} earlier (--format json lists all)[/dim]")


def report_table(report: Report, by: By | None, top: int) -> None:
    """The overview (no `by`), or one breakdown of the period."""
    out = console()
    _header(out, report)
    if not report.usage.recorded_seconds and by is None:
        out.print("No activity recorded in this period.")
        if report.gaps.intervals:
            out.print("\n[bold]Not recording[/bold]")
            _gaps(out, report)
        return
    if by is By.app:
        _shares(out, report, report.apps, "app", len(report.apps), full=True)
    elif by is By.category:
        _shares(out, report, report.categories, "category", len(report.categories), full=True)
    elif by is By.day:
        _days(out, report)
    elif by is By.hour:
        _heat(out, report)
    elif by is By.site:
        if not report.sites:
            out.print("No sites recorded: `presence setup browser` adds the browser extension.")
        _shares(out, report, report.sites, "site", len(report.sites), full=True)
    else:
        if report.period.days > 1:
            out.print("\n[bold]Days[/bold]")
            _days(out, report)
        if report.apps:
            out.print("\n[bold]Apps[/bold]")
            _shares(out, report, report.apps, "app", top, full=False)
            out.print("\n[bold]Categories[/bold]")
            _shares(out, report, report.categories, "category", top, full=False)
        if report.sites:
            out.print("\n[bold]Sites[/bold]")
            _shares(out, report, report.sites, "site", top, full=False)
        if report.usage.active_seconds:
            out.print("\n[bold]Hours[/bold]")
            _heat(out, report)
            out.print()
            _sessions(out, report)
        if report.adherence.rules:
            out.print("\n[bold]Adherence to your rules[/bold]")
            _adherence(out, report)
        if report.gaps.intervals:
            out.print("\n[bold]Not recording[/bold]")
            _gaps(out, report)


def write_csv(rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    sys.stdout.write(buffer.getvalue())


def report_csv(report: Report, by: By) -> None:
    """CSV rows of one breakdown (docs/reports.md gives each header)."""
    period = report.period
    start, end = period.local(period.start).isoformat(), period.local(period.end).isoformat()
    if by is By.app:
        usage_csv(report.usage)
    elif by is By.category:
        rows = [["period_start", "period_end", "category", "active_seconds", "idle_seconds"]]
        rows += [
            [start, end, c.name, f"{c.active_seconds:.3f}", f"{c.idle_seconds:.3f}"]
            for c in report.categories
        ]
        write_csv(rows)
    elif by is By.site:
        rows = [
            ["period_start", "period_end", "site", "category", "active_seconds", "idle_seconds"]
        ]
        rows += [
            [
                start,
                end,
                s.name,
                s.category or "",
                f"{s.active_seconds:.3f}",
                f"{s.idle_seconds:.3f}",
            ]
            for s in report.sites
        ]
        write_csv(rows)
    elif by is By.day:
        rows = [["date", "start", "end", "active_seconds", "idle_seconds", "locked_seconds"]]
        rows += [
            [
                d.day.isoformat(),
                period.local(d.start).isoformat(),
                period.local(d.end).isoformat(),
                f"{d.active_seconds:.3f}",
                f"{d.idle_seconds:.3f}",
                f"{d.locked_seconds:.3f}",
            ]
            for d in report.activity.days
        ]
        write_csv(rows)
    else:
        rows = [["period_start", "period_end", "weekday", "hour", "active_seconds"]]
        rows += [
            [start, end, WEEKDAYS[w], str(h), f"{report.activity.heat[w][h]:.3f}"]
            for w in report.weekdays
            for h in range(24)
        ]
        write_csv(rows)
