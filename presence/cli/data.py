"""`presence data check|repair`: is the database sound, and rebuilding it when it is not."""

from __future__ import annotations

import functools
import socket
from typing import TYPE_CHECKING, Annotated

import typer

from presence.cli.context import AppContext
from presence.cli.report import parse_date
from presence.core.clock import SystemClock
from presence.core.errors import AlreadyRunningError, InputError, StorageError
from presence.daemon.session_lock import SessionLock
from presence.reports import data_export
from presence.rules.values import parse_time
from presence.settings.files import database_url, zone_of

if TYPE_CHECKING:
    from presence.store.maintenance import CheckReport, RepairReport

app = typer.Typer(help="Check the database, and repair a damaged one.", no_args_is_help=True)

REPAIR_HINT = (
    "stop presence (`systemctl --user stop presence`), then run `presence data repair`: "
    "it backs up the damaged file first"
)


def _rows(count: int) -> str:
    return f"{count} row{'s' * (count != 1)}"


def _print_check(report: CheckReport) -> None:
    typer.echo(f"{report.database}: {'ok' if report.ok else 'damaged'}")
    for problem in report.problems:
        typer.echo(f"  - {problem}")
    for note in report.notes:
        typer.echo(f"  {note}")


def _fail(report: CheckReport) -> StorageError:
    count = len(report.problems)
    return StorageError(
        f"{report.database} failed its check ({count} problem{'s' * (count != 1)})",
        hint=REPAIR_HINT if report.repairable else "see the problems above",
    )


@app.command("check")
def check_command(ctx: typer.Context) -> None:
    """Check the database: exit 0 when sound, 4 listing the problems otherwise.

    SQLite: the file header, PRAGMA integrity_check and the schema revision. PostgreSQL: the
    connection and the schema revision. Nothing is written.
    """
    context: AppContext = ctx.obj
    from presence.store.maintenance import check  # noqa: PLC0415 - Alembic only when used

    report = check(database_url(context.settings, context.paths))
    _print_check(report)
    if not report.ok:
        raise _fail(report)


def _print_repair(report: RepairReport) -> None:
    typer.echo(f"Backed up the damaged files: {', '.join(map(str, report.backup))}")
    how = report.method + (f"; header {report.header}" if report.header else "")
    typer.echo(f"Rebuilt {report.before.database} ({how}):")
    for table in report.tables:
        if table.error:
            typer.echo(f"  {table.table}: nothing recovered ({table.error})")
            continue
        if not (table.recovered or table.lost or table.tail_unreadable):
            continue
        line = f"  {table.table}: {_rows(table.recovered)} recovered, {table.lost} lost"
        if table.tail_unreadable:
            line += ", and any after the last one recovered"
        if table.adjusted:
            line += f" ({table.adjusted} kept with a lost reference mended)"
        typer.echo(line)
    typer.echo("Start recording again: `systemctl --user start presence` (or `presence run`).")


@app.command("repair")
def repair_command(
    ctx: typer.Context,
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even when the check finds nothing wrong.")
    ] = False,
) -> None:
    """Rebuild a damaged SQLite database from what can still be read.

    Refused while the daemon runs. The damaged file (and its -wal/-shm) is first copied to
    presence.db.broken-<date>-<time> beside it; then every readable row goes into a new
    database, which replaces the old one. Prints the rows recovered and lost per table.
    """
    context: AppContext = ctx.obj
    url = database_url(context.settings, context.paths)
    from presence.store.maintenance import live_recorder  # noqa: PLC0415 - Alembic only when used

    readable, recording = live_recorder(
        url, context.settings.device.name, SystemClock().now(), socket.gethostname()
    )
    if recording is not None:
        raise AlreadyRunningError(
            f"the presence daemon ({recording.describe()}) is using the database: not repairing it",
            hint=f"stop it first (`systemctl --user stop presence`, or `kill {recording.pid}` "
            f"on {recording.hostname}), then run `presence data repair` again",
        )
    lock: SessionLock | None = SessionLock(context.paths.lock_file)
    holder = lock.holder() if lock is not None else None
    if holder is not None and recording is None and readable:
        # the session's daemon records another database (this one names no live recorder)
        lock = None
    elif holder is not None:
        raise AlreadyRunningError(
            f"the presence daemon (pid {holder}) is using the database: not repairing it",
            hint=f"stop it first (`systemctl --user stop presence`, or `kill {holder}`), "
            "then run `presence data repair` again",
        )
    if lock is not None:
        lock.acquire()  # a daemon (re)started meanwhile must not write into the file rebuilt
    try:
        from presence.store.maintenance import repair  # noqa: PLC0415 - Alembic only when used

        report = repair(
            url,
            device_name=context.settings.device.name,
            stamp=SystemClock().now().astimezone(),
            force=force,
        )
    finally:
        if lock is not None:
            lock.release()
    if not report.rebuilt:
        _print_check(report.before)
        typer.echo("Nothing to repair (use --force to rebuild anyway).")
        return
    _print_repair(report)
    if report.after is not None and not report.after.ok:
        _print_check(report.after)
        raise _fail(report.after)


def _forgotten(found: data_export.Forgotten) -> str:
    parts = [
        f"{count} {name}"
        for name, count in (
            ("spans", found.spans),
            ("daemon runs", found.runs),
            ("pauses", found.pauses),
            ("enforcement events", found.events),
        )
        if count
    ]
    return ", ".join(parts) or "nothing"


@app.command("forget")
def forget_command(
    ctx: typer.Context,
    app_name: Annotated[
        str | None, typer.Option("--app", help="Delete every span of this app (any case).")
    ] = None,
    before: Annotated[
        str | None,
        typer.Option("--before", help="Delete everything that ended before this day, YYYY-MM-DD."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete recorded data for good: an app's spans, or everything before a day. Says what
    it removed. Every device on this database is affected."""
    if (app_name is None) == (before is None):
        raise InputError("give --app NAME or --before DATE (one of them)", hint="e.g. --app steam")
    context: AppContext = ctx.obj
    store = context.store(create=False)
    settings = context.settings
    if app_name is not None:
        run = functools.partial(data_export.forget_app, store, app_name)
        what = f"every span of {app_name!r}"
    else:
        day = parse_date(before, "--before")
        assert day is not None
        day_start = parse_time(settings.reports.day_start, "reports.day_start")
        zone = zone_of(settings)
        run = functools.partial(data_export.forget_before, store, day, zone, day_start)
        what = f"everything that ended before {day.isoformat()} began"
    found = run(dry_run=True)
    if found.total == 0:
        typer.echo(f"Nothing to forget: no record matches ({what}).")
        return
    if not yes:
        try:
            confirmed = typer.confirm(
                f"Delete {what}: {_forgotten(found)}? This cannot be undone", default=False
            )
        except typer.Abort:  # no answer (end of input, Ctrl-C): nothing is deleted
            raise InputError(
                "not confirmed: nothing deleted", hint="add --yes to delete without asking"
            ) from None
        if not confirmed:
            typer.echo("Nothing deleted.")
            return
    typer.echo(f"Removed {_forgotten(run(dry_run=False))}.")
