"""Turning service results into terminal output (rich), JSON or CSV. No logic lives here."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime, tzinfo
from typing import Any

from rich.console import Console
from rich.table import Table

from presence.core.duration import format_duration
from presence.health.status import Status
from presence.reports import UsageReport


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def error_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _local(when: datetime, zone: tzinfo) -> str:
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def report_table(report: UsageReport, zone: tzinfo) -> None:
    out = console()
    period = report.period
    out.print(
        f"[bold]{period.label}[/bold]  {_local(period.start, zone)} → {_local(period.end, zone)}"
        + (
            f"  ({period.hours:g} h day)"
            if period.hours not in (24, 168) and period.hours < 30
            else ""
        )
    )
    active = format_duration(report.active_seconds)
    idle = format_duration(report.idle_seconds)
    locked = format_duration(report.locked_seconds)
    out.print(f"active {active}  ·  idle {idle}  ·  locked {locked}")
    if report.unrecorded_seconds >= 1:
        paused = (
            f" (paused {format_duration(report.paused_seconds)})" if report.paused_seconds else ""
        )
        out.print(f"[dim]not recorded: {format_duration(report.unrecorded_seconds)}{paused}[/dim]")
    if not report.apps:
        out.print("No activity recorded in this period.")
        return
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("app")
    table.add_column("active", justify="right")
    table.add_column("idle", justify="right")
    table.add_column("share", justify="right")
    total = report.active_seconds or 1.0
    for app in report.apps:
        table.add_row(
            app.app,
            format_duration(app.active_seconds),
            format_duration(app.idle_seconds),
            f"{100 * app.active_seconds / total:.0f}%",
        )
    out.print(table)


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
