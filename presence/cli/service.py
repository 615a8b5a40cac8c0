"""`presence service install|uninstall|status|logs`: presence as a service of the session."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from presence.cli.context import AppContext
from presence.daemon.session_lock import SessionLock
from presence.install import service

app = typer.Typer(
    help="Run presence with your graphical session: a systemd user service, or an XDG "
    "autostart entry where there is no systemd user manager.",
    no_args_is_help=True,
)

# Replaced in tests; every systemctl and journalctl call goes through it.
runner: service.Runner = service.run_command


def _say(text: str) -> None:
    typer.echo(text)


@app.command("install")
def install() -> None:
    """Install and start the systemd user service for this presence (enabled at every
    graphical login). Without a systemd user manager, installs an autostart entry instead."""
    files = service.ServiceFiles.resolve()
    report = service.install(files, service.presence_command(), runner, os.environ)
    if report.mechanism == "autostart":
        _say(f"No systemd user manager to run the service ({report.fallback_reason}).")
        _say(f"Installed the autostart entry {report.written} instead: it starts presence at")
        _say("your next graphical login. To start it now, run `presence run &` in your session.")
        return
    _say(f"Installed {report.written} and started presence.service.")
    for path in report.removed:
        _say(f"Removed the autostart entry {path}: the service replaces it.")
    if report.imported:
        _say(f"Imported {' '.join(report.imported)} into the user manager for this login.")
    if report.missing:
        missing = " ".join(report.missing)
        _say(f"The user manager had no {missing}: {service.import_hint(report.missing)}.")
        if "DISPLAY" not in report.imported:
            _say("Until it has DISPLAY the service records nothing (`presence doctor` says why).")


@app.command("uninstall")
def uninstall(ctx: typer.Context) -> None:
    """Stop and disable the service, and remove the unit and the autostart entry."""
    context: AppContext = ctx.obj
    holder = SessionLock(context.paths.lock_file).holder()
    report = service.uninstall(service.ServiceFiles.resolve(), runner, holder)
    for path in report.removed:
        _say(f"Removed {path}.")
    if not report.removed:
        _say("Nothing to remove: presence was not installed as a service.")
    for note in report.notes:
        _say(note[0].upper() + note[1:] + ".")


def _describe_unit(state: service.ServiceStatus) -> str:
    unit = state.unit
    if unit.get("LoadState") == "not-found" or not unit:
        return "not installed"
    active = f"{unit.get('ActiveState', '?')} ({unit.get('SubState', '?')})"
    parts = [unit.get("UnitFileState", "?"), active]
    if unit.get("MainPID", "0") != "0":
        parts.append(f"pid {unit['MainPID']}")
    if unit.get("NRestarts", "0") not in ("0", ""):
        parts.append(f"restarted {unit['NRestarts']} times")
    if unit.get("ActiveState") == "failed":
        parts.append(f"result {unit.get('Result', '?')}: see `presence service logs`")
    return ", ".join(parts)


@app.command("status")
def status(ctx: typer.Context) -> None:
    """Show whether the service is installed, enabled and running."""
    context: AppContext = ctx.obj
    holder = SessionLock(context.paths.lock_file).holder()
    state = service.status(service.ServiceFiles.resolve(), runner, holder)
    if state.manager:
        _say(f"systemd user service: unavailable ({state.manager})")
    else:
        _say(f"systemd user service: {_describe_unit(state)}")
        if state.unit.get("StatusText"):
            _say(f"  status: {state.unit['StatusText']}")
    if state.unit_file:
        _say(f"  unit file: {state.unit_file}")
    _say(f"autostart entry: {state.autostart_file or 'not installed'}")
    if state.daemon_pid is None:
        _say("presence daemon: not running")
    else:
        _say(f"presence daemon: running (pid {state.daemon_pid}); `presence status` shows more")


@app.command("logs")
def logs(
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, help="How many lines.")] = 50,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C ends).")
    ] = False,
) -> None:
    """Show the service's log (journalctl --user -u presence.service)."""
    service.logs(runner, lines, follow)
