"""How `presence today` and `presence report` show a period: the devices asked for, the report
(and, for several devices or people, its household section), printed or written as HTML.

Typer-free: the full commands (presence.cli.report) and their fast path
(presence.cli.report_fast) both show a report through `show`, so both print the same bytes.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from presence.cli.household_render import household_table
from presence.cli.render import error_console, print_json
from presence.cli.report_render import By, report_csv, report_table
from presence.core.clock import SystemClock
from presence.core.errors import InputError
from presence.reports import Period, build_report, device_names
from presence.reports.household import build_household, wanted
from presence.reports.html import write_html
from presence.rulebook.household import devices_in_zone, known_people

if TYPE_CHECKING:
    from presence.cli.context import AppContext


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def devices_for(context: AppContext, device: str | None, zone: str | None = None) -> list[str]:
    """The device names `--device` and `--zone` ask for (default: this device)."""
    if zone is None:
        return device_names(context.store(), device, context.settings.device.name)
    chosen = device_names(context.store(), device or "all", context.settings.device.name)
    return devices_in_zone(context.store(), zone, chosen)  # issue 12


def show(
    context: AppContext,
    period: Period,
    device: str | None,
    fmt: Format | None,
    by: By | None,
    html: Path | None,
    zone: str | None = None,
    person: str | None = None,
) -> None:
    """Build the report of `period` and print it in `fmt` (and/or write `html`)."""
    settings = context.settings.reports
    now = SystemClock().now()
    devices = devices_for(context, device, zone)
    people = None if person in (None, "all") else known_people(context.store(), person or "")
    store = context.store()
    if wanted(devices, person) and store.dialect == "postgresql":
        # issue 12: the server sums the household section while the report is built
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - PostgreSQL only

        with ThreadPoolExecutor(max_workers=1) as pool:
            section = pool.submit(build_household, store, period, devices, settings, people)
            result = build_report(store, period, devices, now, settings, people)
            result.household = section.result()
    else:
        result = build_report(store, period, devices, now, settings, people)
        if wanted(devices, person):  # issue 12: per device, person and zone
            result.household = build_household(store, period, devices, settings, people)
    if html is not None:
        try:
            write_html(result, html, now)
        except OSError as exc:
            raise InputError(
                f"--html {str(html)!r}: cannot write: {exc.strerror}",
                hint="give a file in a directory you can write to",
            ) from None
        error_console().print(f"wrote {html}", markup=False)
        if fmt is None:
            return
    if fmt is Format.json:
        print_json(result.to_dict())
    elif fmt is Format.csv:
        report_csv(result, by or By.app)
    else:
        report_table(result, by, settings.top)
        if result.household is not None and by is None and result.usage.recorded_seconds:
            household_table(result.household)
