"""`presence today` and `presence report`: usage per app for a day or a week."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import typer

from presence.cli.context import AppContext
from presence.cli.render import print_json, report_csv, report_table
from presence.clock import SystemClock
from presence.config import zone_of
from presence.errors import InputError
from presence.reports import Period, day_period, report_day, usage_report, week_period


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not a date", hint="use YYYY-MM-DD, e.g. 2026-11-22"
        ) from None


def _render(context: AppContext, period: Period, devices: list[str], fmt: Format) -> None:
    now = SystemClock().now()
    result = usage_report(context.store(), period, devices, now)
    if fmt is Format.json:
        print_json(result.to_dict())
    elif fmt is Format.csv:
        report_csv(result)
    else:
        report_table(result, period.zone)


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
DeviceOption = Annotated[
    str | None,
    typer.Option("--device", help="Device name (default: this device), or `all`."),
]


def _devices(context: AppContext, device: str | None) -> list[str]:
    if device == "all":
        return [d.name for d in context.store().devices()]
    return [device or context.settings.device.name]


def register(app: typer.Typer) -> None:
    @app.command("today")
    def today(
        ctx: typer.Context,
        fmt: FormatOption = Format.table,
        device: DeviceOption = None,
    ) -> None:
        """Per-app usage for today (days start at reports.day_start, default 04:00)."""
        context: AppContext = ctx.obj
        zone = zone_of(context.settings)
        day = report_day(SystemClock().now(), zone, context.settings.reports)
        period = day_period(day, zone, context.settings.reports)
        _render(context, period, _devices(context, device), fmt)

    @app.command("report")
    def report(
        ctx: typer.Context,
        day: Annotated[bool, typer.Option("--day", help="Report one day.")] = False,
        week: Annotated[bool, typer.Option("--week", help="Report one week (default).")] = False,
        on: Annotated[
            str | None,
            typer.Option("--date", help="A date inside the period (YYYY-MM-DD); default today."),
        ] = None,
        fmt: FormatOption = Format.table,
        device: DeviceOption = None,
    ) -> None:
        """Usage per app for a day or a week, as a table, JSON or CSV."""
        context: AppContext = ctx.obj
        if day and week:
            raise InputError("--day and --week exclude each other", hint="give one of them")
        zone = zone_of(context.settings)
        when = parse_date(on, "--date") or report_day(
            SystemClock().now(), zone, context.settings.reports
        )
        maker = day_period if day else week_period
        _render(
            context, maker(when, zone, context.settings.reports), _devices(context, device), fmt
        )
