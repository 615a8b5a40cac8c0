"""The report's household block in the terminal (issue 12): totals per device, person and
zone, and the adherence to the shared rules per person. Computed by presence.reports.household.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from presence.cli.render import console
from presence.cli.report_render import bar
from presence.core.duration import format_duration
from presence.reports.household import Household
from presence.reports.overview import Totals


def _totals(
    out: Console,
    household: Household,
    head: Sequence[str],
    rows: Sequence[tuple[Sequence[str], Totals]],
) -> None:
    """One row per entry: its named columns, then active, idle, locked, share and a bar."""
    table = Table(show_edge=False, pad_edge=False, box=None)
    for name in head:
        table.add_column(name, no_wrap=True, max_width=24)
    for name in ("active", "idle", "locked", "share"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    most = max((s.active_seconds for _, s in rows), default=0.0)
    for cells, seconds in rows:
        table.add_row(
            *cells,
            format_duration(seconds.active_seconds),
            format_duration(seconds.idle_seconds),
            format_duration(seconds.locked_seconds),
            f"{100 * household.share(seconds):.0f}%",
            f"[cyan]{bar(seconds.active_seconds, most, 10)}[/cyan]",
        )
    out.print(table)


def _adherence(out: Console, household: Household) -> None:
    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column("person")
    table.add_column("rule")
    for name in ("kept", "broken", "open", "used inside", "snoozes", "overrides"):
        table.add_column(name, justify="right")
    for entry in household.adherence:
        for rule in entry.adherence.rules:
            table.add_row(entry.person, rule.rule, *rule.cells(format_duration))
    out.print(table)


def household_table(household: Household) -> None:
    """The Household block: devices, people, zones (when any device has one), adherence."""
    out = console()
    out.print("\n[bold]Household[/bold]")
    _totals(
        out,
        household,
        ("device", "zone", "people"),
        [((d.name, d.zone or "", ", ".join(d.people)), d.seconds) for d in household.devices],
    )
    if household.people:
        out.print()
        _totals(
            out,
            household,
            ("person", "devices"),
            [((p.label, ", ".join(p.devices)), p.seconds) for p in household.people],
        )
    if any(z.name is not None for z in household.zones):
        out.print()
        _totals(
            out,
            household,
            ("zone", "devices"),
            [((z.name or "(no zone)", ", ".join(z.devices)), z.seconds) for z in household.zones],
        )
    if household.adherence:
        out.print("\n[bold]Adherence per person[/bold]")
        _adherence(out, household)
