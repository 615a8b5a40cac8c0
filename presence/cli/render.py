"""Turning service results into terminal output (rich), JSON or CSV. No logic lives here."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from rich.console import Console

from presence.core.duration import format_duration
from presence.reports import UsageReport

if TYPE_CHECKING:  # presence.health.status loads the store (SQLAlchemy): not for reports
    from presence.health.status import Status


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def error_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _local(when: datetime, zone: tzinfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def report_csv(report: UsageReport) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period_start", "period_end", "app", "active_seconds", "idle_seconds"])
    period = report.period
    start, end = period.local(period.start).isoformat(), period.local(period.end).isoformat()
    for app in report.apps:
        writer.writerow(
            [start, end, app.app, f"{app.active_seconds:.3f}", f"{app.idle_seconds:.3f}"]
        )
    sys.stdout.write(buffer.getvalue())


def status_text(status: Status, zone: tzinfo, now: datetime) -> None:
    out = console()
    if not status.running:
        out.print(f"presence is [bold]not running[/bold] on {status.device}.")
        if status.run is not None:
            last = status.run.ended or status.run.last_seen
            out.print(f"last recorded: {_local(last, zone)}")
        out.print("start it with `presence run` (or `make run`).")
        return
    since = f" since {_local(status.run.started, zone)}" if status.run else ""
    out.print(f"presence is [bold]recording[/bold] on {status.device} (pid {status.pid}){since}.")
    if status.pause is not None:
        until = status.pause.end_at()
        out.print(
            f"paused: {status.pause.reason}"
            + (f", until {_local(until, zone)}" if until else ", until `presence resume`")
        )
    elif status.current is not None:
        current = status.current
        what = current.app or ("screen locked" if current.state.value == "locked" else "no window")
        out.print(
            f"now: {what} ({current.state.value}) since {_local(current.start, zone)}"
            f", {format_duration((now - current.start).total_seconds())}"
        )
