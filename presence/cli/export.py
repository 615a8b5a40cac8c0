"""`presence export`: every span, run, pause and enforcement event, as JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from presence.cli.context import AppContext
from presence.cli.report import parse_date
from presence.core.clock import SystemClock
from presence.core.errors import InputError
from presence.reports import data_export
from presence.rules.values import parse_time
from presence.settings.files import zone_of

app = typer.Typer()
"""Top-level command: added to the root app without a group name (cli/app.py)."""

CSV_COLUMNS = [
    "record", "device", "start", "end", "utc_offset", "app", "title", "state", "site",
    "keys", "clicks", "scrolls", "moves", "uid", "rule", "event", "occurrence_start",
    "occurrence_end", "reason", "detail",
]  # fmt: skip


class Format(StrEnum):
    json = "json"
    csv = "csv"


def write_json(result: data_export.Export, out: TextIO) -> None:
    """One JSON object; the spans are written as they are read (a year stays out of memory)."""
    head = {
        "schema": data_export.SCHEMA,
        "from": result.start.isoformat(),
        "to": result.end.isoformat(),
        "devices": result.devices,
        "runs": result.runs,
        "pauses": result.pauses,
        "enforcement": result.enforcement,
    }
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "spans": [')
    for i, span in enumerate(result.spans):
        out.write(("\n" if i == 0 else ",\n") + json.dumps(span, ensure_ascii=False))
    out.write("\n]}\n")


def write_csv(result: data_export.Export, out: TextIO) -> None:
    """One table: a row per record, `record` saying which (span, run, pause, enforcement)."""
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for run in result.runs:
        writer.writerow({"record": "run", **run, "start": run["started"], "end": run["ended"],
                         "reason": run["end_reason"]})  # fmt: skip
    for pause in result.pauses:
        writer.writerow({"record": "pause", **pause, "end": pause["ended"] or pause["until"]})
    for event in result.enforcement:
        row: dict[str, Any] = {"record": "enforcement", **event, "start": event["time"]}
        row["detail"] = json.dumps(event["detail"], ensure_ascii=False)
        writer.writerow(row)
    for span in result.spans:
        writer.writerow({"record": "span", **span})


@app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="json or csv.")] = Format.json,
    first: Annotated[
        str | None, typer.Option("--from", help="First report day, YYYY-MM-DD (default: all).")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last report day, inclusive (default: now).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Write every span, daemon run, pause and enforcement event (every device) as JSON or
    CSV: your data, out. The schema is in docs/export.md."""
    context: AppContext = ctx.obj
    settings = context.settings
    start, end = data_export.bounds(
        parse_date(first, "--from"),
        parse_date(last, "--to"),
        zone_of(settings),
        parse_time(settings.reports.day_start, "reports.day_start"),
        SystemClock().now(),
    )
    result = data_export.export(context.store(create=False), start, end)
    with ExitStack() as stack:
        out: TextIO = sys.stdout
        if output is not None:
            try:
                out = stack.enter_context(output.open("w", encoding="utf-8"))
            except OSError as exc:
                raise InputError(
                    f"cannot write {output}: {exc.strerror}", hint="give a writable path"
                ) from None
        (write_json if fmt is Format.json else write_csv)(result, out)
