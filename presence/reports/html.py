"""The report as one self-contained HTML file (`presence report --html FILE`): inline CSS and
inline SVG charts made here, no script, nothing fetched, so it opens offline in any browser.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from html import escape
from pathlib import Path

from presence import __version__
from presence.core.duration import format_duration
from presence.reports.household import Household
from presence.reports.overview import Report, Share, Totals
from presence.reports.periods import WEEKDAYS
from presence.reports.svg import Series, heat_map, horizontal_bars, stacked_columns, state_bar

ACTIVE, IDLE, LOCKED = "#16a34a", "#f59e0b", "#94a3b8"
MAX_BARS = 15
MAX_GAPS = 60

CSS = """
:root { color-scheme: light; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #f8fafc; margin: 0; }
main { max-width: 920px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(128px, 1fr)); gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card b { display: block; font-size: 22px; } .card span { color: var(--muted); font-size: 13px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 8px 16px 14px; margin-top: 16px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.grid { stroke: var(--line); } .axis { font-size: 11px; fill: var(--muted); }
.label { font-size: 13px; fill: var(--ink); } .value { font-size: 12px; fill: var(--ink); }
.note { fill: var(--muted); } .previous { stroke: var(--ink); stroke-width: 2; opacity: .55; }
.up { color: #b91c1c; } .down { color: #15803d; }
footer { color: var(--muted); font-size: 12px; margin-top: 24px; }
.devices { grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); }
.device svg { display: block; margin: 6px 0 4px; } h3 { font-size: 15px; margin: 18px 0 6px; }
"""


def _d(seconds: float) -> str:
    return format_duration(seconds)


def _change(now: float, before: float) -> str:
    if before <= 0:
        return "new" if now > 0 else ""
    delta = now - before
    sign = "+" if delta >= 0 else "\N{MINUS SIGN}"
    return f"{sign}{_d(abs(delta))} ({sign}{abs(100 * delta / before):.0f}%)"


def _card(title: str, value: str, note: str = "", css: str = "") -> str:
    extra = f'<span class="{css}">{escape(note)}</span>' if note else ""
    return f'<div class="card"><span>{escape(title)}</span><b>{escape(value)}</b>{extra}</div>'


def _cards(report: Report) -> str:
    usage, activity, gaps = report.usage, report.activity, report.gaps
    before = report.previous_totals.active_seconds
    delta = usage.active_seconds - before
    longest = activity.longest
    cards = [
        _card(
            "Active",
            _d(usage.active_seconds),
            f"{_change(usage.active_seconds, before)} vs {report.previous_name}"
            if report.has_previous
            else "",
            "up" if delta > 0 else "down",
        ),
        _card("Idle", _d(usage.idle_seconds)),
        _card("Locked", _d(usage.locked_seconds)),
        _card(
            "Not recorded",
            _d(usage.unrecorded_seconds),
            f"not running {_d(gaps.not_running_seconds)}, paused {_d(gaps.paused_seconds)}",
        ),
        _card(
            "Sessions",
            str(activity.sessions),
            f"longest {_d(longest.seconds)}" if longest is not None else "",
        ),
        _card("App switches", f"{activity.switches_per_active_hour:.1f}", "per active hour"),
    ]
    return '<div class="cards">' + "".join(cards) + "</div>"


def _days(report: Report) -> str:
    days = report.activity.days
    if len(days) == 1:  # one day: its local hours, from the day's start
        first = report.period.local(report.period.start).hour
        hours = [(first + i) % 24 for i in range(24)]
        series = [Series("active", ACTIVE, [report.activity.hourly[h] for h in hours])]
        labels = [f"{h:02d}" for h in hours]
        return "<h2>Per hour</h2>" + stacked_columns(labels, series, _d, "active time per hour")
    if len(days) <= 62:
        # ISO dates (issue 11): month-day, as in every other date presence prints
        labels = [f"{d.day:%a %d}" if len(days) <= 14 else f"{d.day:%m-%d}" for d in days]
        values = [(d.active_seconds, d.idle_seconds, d.locked_seconds) for d in days]
        title = "Per day"
    else:
        weeks = report.weeks()
        several_years = len({first.year for first, _ in weeks}) > 1
        labels = [f"{first:%Y-%m-%d}" if several_years else f"{first:%m-%d}" for first, _ in weeks]
        values = [(t.active_seconds, t.idle_seconds, t.locked_seconds) for _, t in weeks]
        title = "Per week"
    series = [
        Series(name, colour, [v[i] for v in values])
        for i, (name, colour) in enumerate((("active", ACTIVE), ("idle", IDLE), ("locked", LOCKED)))
    ]
    return f"<h2>{title}</h2>" + stacked_columns(labels, series, _d, title)


def _bars(report: Report, title: str, items: list[Share], colour: str) -> str:
    if not items:
        return ""
    changes = report.has_previous
    rows = [
        (
            s.name,
            s.active_seconds,
            s.previous_active_seconds,
            _change(s.active_seconds, s.previous_active_seconds) if changes else "",
        )
        for s in items[:MAX_BARS]
    ]
    more = f'<p class="sub">… and {len(items) - MAX_BARS} more</p>' if len(items) > MAX_BARS else ""
    key = f"; {report.previous_name}: the dark mark" if changes else ""
    return f'<h2>{escape(title)}</h2><p class="sub">active time{escape(key)}</p>' + (
        horizontal_bars(rows, colour, _d, title) + more
    )


def _heat(report: Report) -> str:
    activity = report.activity
    if report.period.days == 1:
        names, values = [f"{activity.days[0].day:%a}"], [activity.hourly]
        title = "Hour of day"
    else:
        names = [WEEKDAYS[w][:3].title() for w in report.weekdays]
        values = [activity.heat[w] for w in report.weekdays]
        title = "Hour of day by day of week"
    return f'<h2>{title}</h2><p class="sub">active time, local clock hours</p>' + heat_map(
        names, values, _d, title
    )


def _table(head: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    def cells(tag: str, values: list[str]) -> str:
        return "".join(
            f"<{tag}{' class=n' if i >= numeric_from else ''}>{escape(v)}</{tag}>"
            for i, v in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', r)}</tr>" for r in rows)
    return f"<table><thead><tr>{cells('th', head)}</tr></thead><tbody>{body}</tbody></table>"


def _adherence(report: Report) -> str:
    rules = report.adherence.rules
    if not rules:
        return (
            '<h2>Adherence to your rules</h2><p class="sub">No rule occurrences in this period.</p>'
        )
    rows = [[r.rule, *r.cells(_d), str(r.streak)] for r in rules]
    head = ["rule", "kept", "broken", "open", "used inside", "snoozes", "overrides", "streak"]
    return "<h2>Adherence to your rules</h2>" + _table(head, rows)


def _seconds(household: Household, seconds: Totals) -> list[str]:
    """Active, idle, locked and the share of the household's active time."""
    share = f"{100 * household.share(seconds):.0f}%"
    values = (seconds.active_seconds, seconds.idle_seconds, seconds.locked_seconds)
    return [*(_d(v) for v in values), share]


def _device_cards(household: Household) -> str:
    """The per-device view: a card per device with its totals and a bar of its active, idle
    and locked time against the most recorded device."""
    most = max((d.seconds.recorded_seconds for d in household.devices), default=0.0)
    cards = []
    for device in household.devices:
        seconds = device.seconds
        where = " · ".join(
            p for p in (device.zone and f"zone {device.zone}", ", ".join(device.people)) if p
        )
        parts = [
            Series("active", ACTIVE, [seconds.active_seconds]),
            Series("idle", IDLE, [seconds.idle_seconds]),
            Series("locked", LOCKED, [seconds.locked_seconds]),
        ]
        cards.append(
            f'<div class="card device"><span>{escape(where or "no zone")}</span>'
            f"<b>{escape(device.name)}</b>"
            f"{state_bar(parts, most, _d, f'{device.name}: active, idle, locked')}"
            f"<span>active {escape(_d(seconds.active_seconds))} "
            f"({100 * household.share(seconds):.0f}% of the household)<br>"
            f"idle {escape(_d(seconds.idle_seconds))} · "
            f"locked {escape(_d(seconds.locked_seconds))}</span></div>"
        )
    return '<div class="cards devices">' + "".join(cards) + "</div>"


def _household(household: Household) -> str:
    """Per device (cards), person and zone (tables), and adherence per person (issue 12)."""
    head = ["active", "idle", "locked", "share"]
    parts = [
        '<h2>Household</h2><p class="sub">per device: active, idle and locked time '
        "(the bar against the most recorded device)</p>",
        _device_cards(household),
    ]
    if household.people:
        rows = [
            [p.label, ", ".join(p.devices), *_seconds(household, p.seconds)]
            for p in household.people
        ]
        parts.append("<h3>People</h3>" + _table(["person", "devices", *head], rows, 2))
    if any(z.name is not None for z in household.zones):
        rows = [
            [z.name or "(no zone)", ", ".join(z.devices), *_seconds(household, z.seconds)]
            for z in household.zones
        ]
        parts.append("<h3>Zones</h3>" + _table(["zone", "devices", *head], rows, 2))
    if household.adherence:
        rows = [
            [entry.person, r.rule, *r.cells(_d)]
            for entry in household.adherence
            for r in entry.adherence.rules
        ]
        head = ["person", "rule", "kept", "broken", "open", "used inside", "snoozes", "overrides"]
        parts.append("<h3>Adherence per person</h3>" + _table(head, rows, 2))
    return "".join(parts)


def _gaps(report: Report) -> str:
    gaps = report.gaps
    zone = report.period.zone
    summary = (
        f"not running {_d(gaps.not_running_seconds)} · paused {_d(gaps.paused_seconds)} · "
        f"running but nothing recorded (asleep, unreadable) {_d(report.other_unrecorded_seconds)}"
    )
    rows = [
        [
            g.device,
            g.kind + (f" ({g.reason})" if g.reason else ""),
            g.start.astimezone(zone).strftime("%a %Y-%m-%d %H:%M"),
            g.end.astimezone(zone).strftime("%a %Y-%m-%d %H:%M"),
            _d(g.seconds),
        ]
        for g in gaps.intervals[-MAX_GAPS:]
    ]
    more = len(gaps.intervals) - len(rows)
    note = f'<p class="sub">… {more} earlier intervals (JSON lists all)</p>' if more > 0 else ""
    table = _table(["device", "what", "from", "to", "for"], rows, 4) if rows else ""
    return f'<h2>Not recording</h2><p class="sub">{escape(summary)}</p>{table}{note}'


def render_html(report: Report, now: datetime | None = None) -> str:
    period = report.period
    zone = period.zone
    when = "%Y-%m-%d %H:%M %Z"
    span = (
        f"{period.local(period.start):{when}} → {period.local(period.end):{when}}"
        f" · {period.hours:g} h · {', '.join(report.usage.devices) or 'no device'}"
    )
    stamp = f" on {now.astimezone(zone):%Y-%m-%d %H:%M %Z}" if now else ""
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>presence: {escape(period.label)}</title><style>{CSS}</style></head><body><main>",
        f'<h1>{escape(period.label)}</h1><p class="sub">{escape(span)}</p>',
        _cards(report),
        f"<section>{_days(report)}</section>",
        f"<section>{_bars(report, 'Apps', report.apps, '#2563eb')}</section>"
        if report.apps
        else "",
        f"<section>{_bars(report, 'Categories', report.categories, '#7c3aed')}</section>"
        if report.categories
        else "",
        f"<section>{_bars(report, 'Sites', report.sites, '#0d9488')}</section>"
        if report.sites
        else "",
        f"<section>{_heat(report)}</section>",
        f"<section>{_adherence(report)}</section>",
        f'<section id="household">{_household(report.household)}</section>'
        if report.household is not None
        else "",
        f"<section>{_gaps(report)}</section>",
        f"<footer>presence {escape(__version__)}{escape(stamp)} · local-first: this file "
        "fetches nothing.</footer></main></body></html>",
    ]
    return "\n".join(p for p in parts if p)


def write_html(report: Report, path: Path, now: datetime | None = None) -> None:
    """Write the HTML report to `path` atomically. Raises OSError when it cannot."""
    text = render_html(report, now)
    directory = path.expanduser().resolve().parent
    fd, temp = tempfile.mkstemp(prefix=".presence-", suffix=".html", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o600)  # a report says what you did: private, like the database
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)  # left only when something failed
