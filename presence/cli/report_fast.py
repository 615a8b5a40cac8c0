"""`presence today` and `presence report` without Typer or pydantic, and on a SQLite file
without SQLAlchemy.

Issue 13 ("instant everyday commands"): importing Typer (with the pydantic it loads) and
SQLAlchemy costs more than the 300 ms these two commands may take on a month of history.
`presence.cli.main` calls `fast_main` before loading Typer. It answers a strict subset of the
command line: `today` and `report` with `--day`, `--week`, `--month`, `--date YYYY-MM-DD` (report
only), `--format/-f table|json|csv`, `--device` and (report) `--zone` and `--person`.

- This device, from a SQLite file already at the head schema: read through the standard
  library (presence.store.sqlite_reads) and built by the same service
  (presence.reports.build_report), printed by the same renderers.
- Devices, a zone or people named, or a PostgreSQL database (issue 12: a household): the full
  command's own `presence.cli.report_show.show` through the store (SQLAlchemy), Typer left
  out; the errors it raises (an unknown device...) are reported by `presence.cli.main` exactly
  as the full command's.

So the output is the same bytes as the full command's (tests/unit/test_report_fast.py compares
them). Everything else returns None and the full command answers: other options (`--by`,
`--html`, `--from`...), global options, `--help`, anything it cannot parse or that is a usage
error (the full command reports those exactly as always), a missing SQLite file or one at
another revision (the full command creates or migrates it), and any unexpected failure before
output has begun. `PRESENCE_FULL_CLI=1` turns this path off (tests compare the two).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from presence.core.errors import PresenceError

if TYPE_CHECKING:
    from presence.cli.context import AppContext
    from presence.reports import Period, Report

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
    device: str | None = None  # --device NAME|all
    zone: str | None = None  # --zone NAME (report)
    person: str | None = None  # --person NAMES|all (report)

    @property
    def household(self) -> bool:
        """Whether it names devices, a zone or people (issue 12): read through the store."""
        return (self.device, self.zone, self.person) != (None, None, None)


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
    named: dict[str, str] = {}  # --device, --zone, --person: given once, a value not an option
    takes = ("--device",) if command == "today" else ("--device", "--zone", "--person")
    words = iter(argv[1:])
    for word in words:
        name, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        needs_value = name in ("--format", "-f", *takes) or (
            command == "report" and name == "--date"
        )
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
        elif name in takes and name not in named and value and not value.startswith("-"):
            named[name] = value
        else:  # an option it does not take, a repeated one, a bad value, an argument
            return None
    return Request(
        command, kind, on, fmt, named.get("--device"), named.get("--zone"), named.get("--person")
    )


def _period(request: Request, context: AppContext) -> Period:
    """The period asked for, as presence.cli.report computes it."""
    from presence.core.clock import SystemClock  # noqa: PLC0415 - after parsing (see main)
    from presence.reports import (  # noqa: PLC0415
        day_period,
        month_period,
        report_day,
        week_period,
    )
    from presence.settings.files import zone_of  # noqa: PLC0415

    settings = context.settings
    zone, reports = zone_of(settings), settings.reports
    when = request.on or report_day(SystemClock().now(), zone, reports)
    if request.kind == "--day" or request.command == "today":
        return day_period(when, zone, reports)
    if request.kind == "--month":
        return month_period(when, zone, reports)
    return week_period(when, zone, reports)


def _report(request: Request, context: AppContext) -> Report | None:
    """The report asked for, read through sqlite3; None: the full path answers."""
    from presence.core.clock import SystemClock  # noqa: PLC0415 - after parsing (see main)
    from presence.reports import build_report  # noqa: PLC0415

    source = context.sqlite_reads()
    if source is None:
        return None
    try:
        period = _period(request, context)
        # As presence.cli.report_show.show: this device only (no --device), everyone's time (no
        # --person), so no household section (presence.reports.household.wanted).
        devices = [context.settings.device.name]
        return build_report(source, period, devices, SystemClock().now(), context.settings.reports)
    finally:
        source.close()


def _from_store(request: Request, context: AppContext) -> int | None:
    """Devices, zones or people named, or a PostgreSQL database (issue 12: a household): the
    full command's own `show` through the store, without Typer. Errors the command reports
    (PresenceError) are raised as the full command raises them; anything else before output
    has begun returns None (the full command runs it again, and explains)."""
    from presence.cli.report_show import Format, show  # noqa: PLC0415 - after parsing

    fmt = Format(request.fmt) if request.fmt else None
    zone, person = request.zone, request.person
    period = _period(request, context)
    show(context, period, request.device, fmt, None, None, zone, person)
    sys.stdout.flush()
    return 0


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


def _server(context: AppContext) -> bool:
    """Whether the settings name a database server (PostgreSQL), not a SQLite file."""
    from presence.settings.files import database_url  # noqa: PLC0415

    return database_url(context.settings, context.paths).startswith("postgresql")


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
        if request.household or _server(context):
            return _from_store(request, context)
        result = _report(request, context)
    except KeyboardInterrupt:
        return 130  # as the full command (Typer): Ctrl-C ends it quietly
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except PresenceError:
        raise  # reported by presence.cli.main as the full command's are
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
