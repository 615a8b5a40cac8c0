"""`presence today`, `presence report` and `presence trends`: usage for a period, as a table,
JSON, CSV or a self-contained HTML file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from presence.cli.context import AppContext
from presence.cli.render import print_json
from presence.cli.report_render import By
from presence.cli.report_show import Format, devices_for, show
from presence.cli.trends_render import trends_csv, trends_table
from presence.core.clock import SystemClock
from presence.core.errors import InputError
from presence.reports import (
    Period,
    day_period,
    month_period,
    range_period,
    report_day,
    trends,
    week_period,
)
from presence.reports.periods import FIRST_DAY, LAST_DAY
from presence.settings.files import zone_of

app = typer.Typer()
"""Top-level commands: added to the root app without a group name (cli/app.py)."""


LONGEST_RANGE = 3660
"""The most days one --from/--to report covers (ten years, like `trends --weeks 520`)."""


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not a date", hint="use YYYY-MM-DD, e.g. 2026-11-22"
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(
            f"{option} {day.isoformat()} is outside the dates reports cover",
            hint=f"give a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}",
        )
    return day


FormatOption = Annotated[
    Format | None, typer.Option("--format", "-f", help="Output format (default: table).")
]
DeviceOption = Annotated[
    str | None,
    typer.Option("--device", help="Device name (default: this device), or `all`."),
]
ZoneOption = Annotated[
    str | None,
    typer.Option("--zone", help="Only the devices in this zone (with --device: of those)."),
]
PersonOption = Annotated[
    str | None,
    typer.Option("--person", help="Only the time these people (comma-separated) used, or `all`."),
]
ByOption = Annotated[
    By | None,
    typer.Option(
        "--by",
        help="Break the period down by app, category, site, day or hour (table and CSV; "
        "default: the overview table, CSV by app).",
    ),
]
HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html",
        help="Write the report as one self-contained HTML file (charts, works offline); "
        "with --format, print that too.",
        dir_okay=False,
    ),
]


def _choose(
    when: date,
    first: date | None,
    last: date | None,
    kinds: dict[str, bool],
    context: AppContext,
) -> Period:
    chosen = [f"--{k}" for k, on in kinds.items() if on]
    if first is not None or last is not None:
        chosen.append("--from/--to")
    if len(chosen) > 1:
        raise InputError(f"{' and '.join(chosen)} exclude each other", hint="give one of them")
    zone, settings = zone_of(context.settings), context.settings.reports
    if first is not None or last is not None:
        if first is None:
            raise InputError("--to needs --from", hint="e.g. --from 2026-01-01 --to 2026-03-31")
        last = last or when
        if last < first:
            raise InputError(
                f"--to {last} is before --from {first}", hint="give the earlier date to --from"
            )
        if (last - first).days >= LONGEST_RANGE:
            raise InputError(
                f"--from {first} to --to {last} is longer than {LONGEST_RANGE} days",
                hint="report at most ten years at a time",
            )
        return range_period(first, last, zone, settings)
    if kinds["day"]:
        return day_period(when, zone, settings)
    if kinds["month"]:
        return month_period(when, zone, settings)
    return week_period(when, zone, settings)


@app.command("today")
def today(
    ctx: typer.Context,
    fmt: FormatOption = None,
    device: DeviceOption = None,
    by: ByOption = None,
    html: HtmlOption = None,
) -> None:
    """Usage for today (days start at reports.day_start, default 04:00)."""
    context: AppContext = ctx.obj
    zone = zone_of(context.settings)
    day = report_day(SystemClock().now(), zone, context.settings.reports)
    show(context, day_period(day, zone, context.settings.reports), device, fmt, by, html)


@app.command("report")
def report(
    ctx: typer.Context,
    day: Annotated[bool, typer.Option("--day", help="Report one day.")] = False,
    week: Annotated[bool, typer.Option("--week", help="Report one week (default).")] = False,
    month: Annotated[bool, typer.Option("--month", help="Report one calendar month.")] = False,
    since: Annotated[
        str | None,
        typer.Option("--from", help="First day of a range (YYYY-MM-DD), with --to."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--to", help="Last day of the range, included (default: today)."),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--date", help="A date inside the period (YYYY-MM-DD); default today."),
    ] = None,
    by: ByOption = None,
    fmt: FormatOption = None,
    device: DeviceOption = None,
    zone: ZoneOption = None,
    person: PersonOption = None,
    html: HtmlOption = None,
) -> None:
    """Totals, their change, days, apps, categories, hours, sessions, adherence and gaps."""
    context: AppContext = ctx.obj
    first, last = parse_date(since, "--from"), parse_date(until, "--to")
    when = parse_date(on, "--date")
    if when is not None and first is not None:
        raise InputError("--date and --from exclude each other", hint="give one of them")
    when = when or report_day(
        SystemClock().now(), zone_of(context.settings), context.settings.reports
    )
    period = _choose(when, first, last, {"day": day, "week": week, "month": month}, context)
    show(context, period, device, fmt, by, html, zone, person)


@app.command("trends")
def trends_command(
    ctx: typer.Context,
    weeks: Annotated[int, typer.Option("--weeks", "-n", help="How many weeks (2 to 520).")] = 8,
    on: Annotated[
        str | None,
        typer.Option("--date", help="A date in the last week shown (default: today)."),
    ] = None,
    fmt: FormatOption = None,
    device: DeviceOption = None,
) -> None:
    """Week-over-week totals and active time per category."""
    context: AppContext = ctx.obj
    if not 2 <= weeks <= 520:
        raise InputError(f"--weeks {weeks} is out of range", hint="give 2 to 520 weeks")
    zone = zone_of(context.settings)
    settings = context.settings.reports
    last = parse_date(on, "--date") or report_day(SystemClock().now(), zone, settings)
    result = trends(context.store(), last, weeks, zone, devices_for(context, device), settings)
    if fmt is Format.json:
        print_json(result.to_dict())
    elif fmt is Format.csv:
        trends_csv(result)
    else:
        trends_table(result)
