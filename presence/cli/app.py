"""The whole `presence` command: every group registered on the root app, each loaded on demand.

A command's module (and what it imports: SQLAlchemy, rich, the report or rule modules) is
imported only when that command runs, is asked for help, or docs are generated: `presence
today` does not pay for `presence household` (issue 13, "instant everyday commands").
`presence --help` lists every command from COMMANDS below without importing any of them;
tests/unit/test_cli_lazy.py checks that table against the real modules.

`make docs` generates docs/cli.md from this module's `app` (it resolves every command).
"""

from __future__ import annotations

import importlib
from difflib import get_close_matches
from typing import Any, NamedTuple

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from presence.cli.root import new_app


class Entry(NamedTuple):
    """Where a command lives: `module`'s Typer `app`, added under `group` (None: top level)."""

    module: str
    group: str | None
    short_help: str
    """The command's help as `presence --help` shows it (checked against the module)."""


def _top(module: str, short_help: str) -> Entry:
    return Entry(module, None, short_help)


def _group(module: str, name: str, short_help: str) -> Entry:
    return Entry(module, name, short_help)


# The order here is the order of `presence --help` and docs/cli.md.
COMMANDS: dict[str, Entry] = {
    "run": _top(
        "presence.cli.run", "Run the daemon in the foreground until SIGTERM or Ctrl-C (exit 0)."
    ),
    "status": _top(
        "presence.cli.status", "Show whether presence is recording, and the current app and state."
    ),
    "today": _top(
        "presence.cli.report", "Usage for today (days start at reports.day_start, default 04:00)."
    ),
    "report": _top(
        "presence.cli.report",
        "Totals, their change, days, apps, categories, hours, sessions, adherence and gaps.",
    ),
    "trends": _top("presence.cli.report", "Week-over-week totals and active time per category."),
    "pause": _top(
        "presence.cli.pause", "Stop recording for a while; the daemon notices within one tick."
    ),
    "resume": _top("presence.cli.pause", "End a pause now."),
    "doctor": _top(
        "presence.cli.doctor", "Check each capability, the settings file and the database."
    ),
    "snooze": _top(
        "presence.cli.override",
        "Lift the action of the rules in force for a while (once per occurrence for free).",
    ),
    "override": _top(
        "presence.cli.override",
        "Skip the rule's current occurrence (or else its next one), on every device.",
    ),
    "focus": _top(
        "presence.cli.override",
        "Start a focus block now: the apps named are off limits until it ends.",
    ),
    "export": _top(
        "presence.cli.export",
        "Write every span, daemon run, pause and enforcement event (every device) as JSON or "
        "CSV: your data, out.",
    ),
    "config": _group(
        "presence.cli.config_cmd", "config", "Show, locate and check the settings file."
    ),
    "categories": _group(
        "presence.cli.categories",
        "categories",
        "Categories for reports: regular expressions over app and window title.",
    ),
    "service": _group(
        "presence.cli.service",
        "service",
        "Run presence with your graphical session: a systemd user service, or an XDG "
        "autostart entry where there is no systemd user manager.",
    ),
    "setup": _group(
        "presence.cli.setup",
        "setup",
        "Prepare your desktop for presence (GNOME needs presence's shell extension).",
    ),
    "data": _group("presence.cli.data", "data", "Check the database, and repair a damaged one."),
    "import": _group("presence.cli.import_cmd", "import", ""),
    "rules": _group(
        "presence.cli.rules",
        "rules",
        "Rules the daemon enforces: tech-free windows, device-free schedules, focus time, "
        "daily limits and breaks.",
    ),
    "devices": _group(
        "presence.cli.devices",
        "devices",
        "The devices recording into this database: names, zones, people.",
    ),
    "zones": _group(
        "presence.cli.zones",
        "zones",
        "Zones: places in the home (set with `presence devices set-zone`).",
    ),
    "household": _group(
        "presence.cli.household",
        "household",
        "Set up a household database: roles for the owner and for each device.",
    ),
}


def load(name: str) -> Any:
    """The Click command `name` of the root app, built exactly as eager wiring would build it.

    Imports the command's module. Raises KeyError for a name not in COMMANDS.
    """
    entry = COMMANDS[name]
    module = importlib.import_module(entry.module)
    # Typer hands the root's help and error settings down to every command it builds.
    holder = typer.Typer(
        add_completion=False,
        rich_markup_mode=app.rich_markup_mode,
        suggest_commands=app.suggest_commands,
        pretty_exceptions_short=app.pretty_exceptions_short,
    )
    if name == "run":
        module.register(holder)  # run's own path never imports Typer (cli/run.py)
    else:
        holder.add_typer(module.app, name=entry.group)
    group = typer.main.get_group(holder)
    return group.commands[name]


class LazyGroup(TyperGroup):
    """The root group: commands resolved from COMMANDS when first asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load(cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # The help text from the table, truncated as Click would: no command module imported.
        stand_ins = [TyperCommand(name=n, help=e.short_help) for n, e in COMMANDS.items()]
        limit = formatter.width - 6 - max(len(n) for n in COMMANDS)
        rows = [(c.name, c.get_short_help_str(limit)) for c in stand_ins]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # TyperGroup suggests from the commands loaded so far; suggest from all of them.
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:
            message = getattr(exc, "message", None)
            if isinstance(message, str) and args and "Did you mean" not in message:
                matches = get_close_matches(args[0], list(COMMANDS))
                if matches:
                    suggestions = ", ".join(f"{m!r}" for m in matches)
                    exc.message = f"{message.rstrip('.')}. Did you mean {suggestions}?"  # type: ignore[attr-defined]
            raise


app = new_app()
app.info.cls = LazyGroup
