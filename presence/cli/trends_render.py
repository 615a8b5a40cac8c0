"""`presence trends` in the terminal (a table and one sparkline per category) and as CSV."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from presence.cli.render import console
from presence.cli.report_render import bar, change_text, write_csv
from presence.core.duration import format_duration
from presence.reports import Trends

SPARKS = "▁▂▃▄▅▆▇█"


def spark(values: Sequence[float]) -> str:
    """A sparkline scaled from the lowest to the highest value (a blank: none at all)."""
    used = [v for v in values if v > 0]
    if not used:
        return " " * len(values)
    low, high = min(used), max(used)
    span = high - low
    return "".join(
        " " if v <= 0 else SPARKS[0 if span <= 0 else min(7, int(8 * (v - low) / span))]
        for v in values
    )


def trends_table(result: Trends) -> None:
    out = console()
    if not result.weeks:
        return
    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column("week of")
    table.add_column("active", justify="right")
    table.add_column("change", justify="right")
    table.add_column("", no_wrap=True)
    table.add_column("idle", justify="right")
    table.add_column("locked", justify="right")
    most = max(w.totals.active_seconds for w in result.weeks)
    for week in result.weeks:
        first = week.period.first
        table.add_row(
            first.isoformat() if first else week.period.label,
            format_duration(week.totals.active_seconds),
            change_text(week.change_seconds, week.previous_active_seconds),
            f"[green]{bar(week.totals.active_seconds, most, 24)}[/green]",
            format_duration(week.totals.idle_seconds),
            format_duration(week.totals.locked_seconds),
        )
    out.print(table)
    names = result.categories
    if not names:
        return
    out.print(
        "\n[bold]Categories[/bold] [dim](active time per week, oldest first; each line from "
        "its lowest week ▁ to its highest █)[/dim]"
    )
    lines = Table(show_edge=False, pad_edge=False, box=None)
    lines.add_column("category")
    lines.add_column("weeks", no_wrap=True)
    lines.add_column("last", justify="right")
    lines.add_column("mean", justify="right")
    for name in names:
        series = result.series(name)
        lines.add_row(
            name,
            f"[cyan]{spark(series)}[/cyan]",
            format_duration(series[-1]),
            format_duration(sum(series) / len(series)),
        )
    out.print(lines)


def trends_csv(result: Trends) -> None:
    names = result.categories
    rows = [["week_start", "week_end", "active_seconds", "idle_seconds", "locked_seconds"]]
    rows[0] += [f"category:{n}" for n in names]
    for week in result.weeks:
        period = week.period
        rows.append(
            [
                period.local(period.start).isoformat(),
                period.local(period.end).isoformat(),
                f"{week.totals.active_seconds:.3f}",
                f"{week.totals.idle_seconds:.3f}",
                f"{week.totals.locked_seconds:.3f}",
            ]
            + [f"{week.categories.get(n, 0.0):.3f}" for n in names]
        )
    write_csv(rows)
