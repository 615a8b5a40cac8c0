"""`presence today` and `presence report` without Typer, pydantic or SQLAlchemy.

Issue 13 ("instant everyday commands"): importing Typer (with the pydantic it loads) and
SQLAlchemy costs more than the 300 ms these two commands may take on a month of history.
`presence.cli.main` calls `fast_main` before loading Typer. It answers a strict subset of the
command line: `today` and `report` with `--day`, `--week`, `--month`, `--date YYYY-MM-DD` (report
only) and `--format/-f table|json|csv`, for this device, from a SQLite file already at the head
schema, read through the standard library (presence.store.sqlite_reads). It builds the same
report with the same service (presence.reports.build_report) and prints it with the same
renderers as the full command (presence.cli.report), so the output is the same bytes
(tests/unit/test_report_fast.py compares them).

Everything else returns None and the full command answers: other options (`--device`, `--by`,
`--html`, `--from`...), global options, `--help`, anything it cannot parse or that is an
error (the full command reports errors and usage exactly as always), PostgreSQL, a missing
database or one at another revision (the full command creates or migrates it), and any
failure while reading. Nothing is printed before the report is complete, so falling back
never prints twice. `PRESENCE_FULL_CLI=1` turns this path off (tests compare the two).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from presence.cli.context import AppContext
    from presence.reports import Report

COMMANDS = ("today", "report")
FORMATS = ("table", "json", "csv")
KINDS = ("--day", "--week", "--month")
OFF = "PRESENCE_FULL_CLI"


@dataclass(frozen=True, slots=True)
class Request:
    """What was asked: the command, the period's kind (report), its date, the format."""

    command: str
    kind: str | None = None  # --day, --week or --month; None: report's default (a week)
    on: date | None = None
    fmt: str | None = None


def _day(text: str) -> date | None:
    """A --date the full command accepts (presence.cli.report.parse_date), or None."""
    from presence.reports.periods import FIRST_DAY, LAST_DAY  # noqa: PLC0415 - after parsing

    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def parse(argv: Sequence[str]) -> Request | None:
    """The request in `argv` (the words after `presence`), or None for anything else."""
    if not argv or argv[0] not in COMMANDS:
        return None
    command, kind, on, fmt = argv[0], None, None, None
    words = iter(argv[1:])
    for word in words:
        name, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        needs_value = name in ("--format", "-f") or (command == "report" and name == "--date")
        if needs_value and not equals:
            following = next(words, None)
            if following is None:
                return None
            value = following
        if name in ("--format", "-f") and fmt is None and value in FORMATS:
            fmt = value
        elif command == "report" and name in KINDS and not equals and kind is None:
            kind = name
        elif command == "report" and name == "--date" and on is None:
            on = _day(value)
            if on is None:
                return None
        else:  # an option it does not take, a repeated one, a bad value, an argument
            return None
    return Request(command, kind, on, fmt)


def _report(request: Request, context: AppContext) -> Report | None:
    """The report asked for, read through sqlite3; None: the full path answers."""
    from presence.core.clock import SystemClock  # noqa: PLC0415 - after parsing (see main)
    from presence.reports import (  # noqa: PLC0415
        build_report,
        day_period,
        month_period,
        report_day,
        week_period,
    )
    from presence.settings.files import zone_of  # noqa: PLC0415

    source = context.sqlite_reads()
    if source is None:
        return None
    try:
        settings = context.settings
        zone, reports = zone_of(settings), settings.reports
        when = request.on or report_day(SystemClock().now(), zone, reports)
        if request.kind == "--day" or request.command == "today":
            period = day_period(when, zone, reports)
        elif request.kind == "--month":
            period = month_period(when, zone, reports)
        else:
            period = week_period(when, zone, reports)
        # As presence.cli.report._show: this device only (no --device), everyone's time (no
        # --person), so no household section (presence.reports.household.wanted).
        devices = [settings.device.name]
        return build_report(source, period, devices, SystemClock().now(), reports)
    finally:
        source.close()


def _render(request: Request, result: Report, top: int) -> None:
    """As presence.cli.report._show prints a report."""
    from presence.cli.render import print_json  # noqa: PLC0415
    from presence.cli.report_render import By, report_csv, report_table  # noqa: PLC0415

    if request.fmt == "json":
        print_json(result.to_dict())
    elif request.fmt == "csv":
        report_csv(result, By.app)
    else:
        report_table(result, None, top)


def fast_main(argv: Sequence[str]) -> int | None:
    """`presence ARGV` for the subset above (exit status 0); None: the full command answers."""
    if os.environ.get(OFF) == "1":
        return None
    request = parse(argv)
    if request is None:
        return None
    from presence.cli.context import AppContext  # noqa: PLC0415 - after parsing

    context = AppContext()  # as the root command makes it: PRESENCE_CONFIG, or the default
    try:
        result = _report(request, context)
    except KeyboardInterrupt:
        return 130  # as the full command (Typer): Ctrl-C ends it quietly
    except Exception:  # anything else: the full command runs it again, and explains
        return None
    if result is None:
        return None
    try:  # from here on output has begun: no falling back
        _render(request, result, context.settings.reports.top)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # as the full command (Click): a reader that went away (`| head`) ends it quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
