"""`presence rules add|list|show|edit|remove|enable|disable|export|import|next`."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from presence.cli import rules_render
from presence.cli.context import AppContext
from presence.cli.render import console, print_json
from presence.cli.rules_policy import policy_command
from presence.cli.watching import say_watching
from presence.core.clock import SystemClock
from presence.core.errors import InputError
from presence.install import browser
from presence.rulebook import manage
from presence.rulebook.policy import defaults_for
from presence.rules.model import RuleKind, parse_kind, parse_rule
from presence.settings.files import zone_of

if TYPE_CHECKING:
    from presence.store import RuleStore

app = typer.Typer(
    help="Rules the daemon enforces: tech-free windows, device-free schedules, focus time, "
    "daily limits and breaks. Loosening a rule waits for the rule set's cooldown (`presence "
    "rules policy`); tightening is immediate.",
    no_args_is_help=True,
)
app.command("policy")(policy_command)

Days = Annotated[
    str | None, typer.Option("--days", help="daily, weekdays, weekends, or mon,tue,... (mon-fri).")
]
On = Annotated[str | None, typer.Option("--on", help="A one-off date (YYYY-MM-DD) instead.")]
Start = Annotated[str | None, typer.Option("--start", help="Local start time, HH:MM[:SS].")]
End = Annotated[
    str | None, typer.Option("--end", help="Local end time; before the start: the next day.")
]
Devices = Annotated[
    str | None,
    typer.Option(
        "--device", help="Device names, comma-separated (default: all; device-free: this one)."
    ),
]
Zones = Annotated[
    str | None,
    typer.Option("--zone", help="Zones (places, e.g. bedroom): every device in them."),
]
People = Annotated[
    str | None, typer.Option("--person", help="People, comma-separated: on every device they use.")
]
Apps = Annotated[
    str | None, typer.Option("--apps", help="Apps the action targets, comma-separated.")
]
Categories = Annotated[
    str | None, typer.Option("--categories", help="Categories the action targets (focus, limit).")
]
Allow = Annotated[str | None, typer.Option("--allow", help="Apps the action spares.")]
Sites = Annotated[
    str | None,
    typer.Option(
        "--sites",
        help="Focus, tech-free: sites the browser extension blocks; limit: sites whose time "
        "counts, blocked once it is reached. E.g. youtube.com.",
    ),
]
ActionOpt = Annotated[
    str | None, typer.Option("--action", help="nudge (default), lock, close-apps or pause-apps.")
]
Warn = Annotated[
    str | None, typer.Option("--warn", help="Warning lead times, e.g. 10m,1m (default), or none.")
]
Grace = Annotated[
    str | None, typer.Option("--grace", help="Time from the start to the action (default 60s).")
]
Strict = Annotated[
    bool | None, typer.Option("--strict/--no-strict", help="No snoozes and no overrides.")
]
PerDay = Annotated[str | None, typer.Option("--per-day", help="Limit: active time a day, e.g. 2h.")]
After = Annotated[
    str | None, typer.Option("--after", help="Break: after this much continuous use, e.g. 50m.")
]
Name = Annotated[str, typer.Argument(help="The rule's name.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _context(ctx: typer.Context) -> tuple[AppContext, RuleStore, datetime, tzinfo]:
    context: AppContext = ctx.obj
    return context, context.rule_store(), SystemClock().now(), zone_of(context.settings)


RULE_OPTIONS: dict[str, Any] = {
    "days": Days,
    "on": On,
    "start": Start,
    "end": End,
    "devices": Devices,
    "zones": Zones,
    "people": People,
    "apps": Apps,
    "categories": Categories,
    "allow": Allow,
    "sites": Sites,
    "action": ActionOpt,
    "warn": Warn,
    "grace": Grace,
    "strict": Strict,
    "per_day": PerDay,
    "after": After,
}
"""The options of a rule's fields, in help order: one list for `rules add` and `rules edit`."""


def rule_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the RULE_OPTIONS (each defaulting to None) after its own parameters.

    The command declares an `options: dict[str, Any]` parameter instead and receives them
    there, keyed by field name, None where not given. Typer reads the signature set here.
    """
    own = inspect.signature(command, eval_str=True)
    params = [p for p in own.parameters.values() if p.name != "options"]
    params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=alias)
        for name, alias in RULE_OPTIONS.items()
    ]

    @functools.wraps(command)
    def with_options(*args: Any, **kwargs: Any) -> None:
        options = {name: kwargs.pop(name, None) for name in RULE_OPTIONS}
        command(*args, options=options, **kwargs)

    with_options.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    return with_options


def _fields(options: dict[str, Any]) -> dict[str, Any]:
    """The options given, as rule fields (`--device` lists the `devices` field)."""
    fields = {k: v for k, v in options.items() if v is not None}
    for key in ("devices", "zones", "people"):
        if key in fields:
            fields[key] = fields[key].split(",")
    return fields


# -- commands ---------------------------------------------------------------------------------


@app.command("add")
@rule_options
def add_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="tech-free, device-free, focus, limit or break.")],
    name: Name,
    options: dict[str, Any],
) -> None:
    """Add a rule. It is in force at once (on every device sharing the database)."""
    context, store, now, zone = _context(ctx)
    rule_kind = parse_kind(kind)
    if rule_kind is RuleKind.DEVICE_FREE and options["devices"] is None and not options["zones"]:
        options["devices"] = context.settings.device.name  # device-free: this device unless told
    fields = _fields(options)
    rule = parse_rule(name, rule_kind, fields, device=context.settings.device.name)
    today = now.astimezone(zone).date()
    # the settings file's rules.cooldown, rules.snooze and reports.day_start seed a rule set
    # without a policy (issue 10)
    defaults = defaults_for(context.settings)
    outcome = manage.add_rule(store, rule, now, today=today, defaults=defaults)
    rules_render.say(outcome, zone, context.settings.rules.cooldown)
    say_watching(context, [rule.action])
    if rule.sites:
        console().print(browser.sites_note(None, context.paths.data_dir, time.time()))
    coming = manage.next_occurrences(store, zone, now, context.settings.device.name, count=50)
    first = next((occ for r, occ in coming if r.name == rule.name), None)
    if first is not None:
        console().print(f"next: {rules_render.local_time(first.start, zone)}")


@app.command("edit")
@rule_options
def edit_command(ctx: typer.Context, name: Name, options: dict[str, Any]) -> None:
    """Change the given fields of a rule. A change that loosens it waits for rules.cooldown."""
    context, store, now, zone = _context(ctx)
    changes = _fields(options)
    if not changes:
        raise InputError("nothing to change", hint="give the options to change, e.g. --end 23:00")
    cooldown = context.settings.rules.cooldown
    today = now.astimezone(zone).date()
    outcome = manage.edit_rule(store, name, changes, now, cooldown, today=today)
    rules_render.say(outcome, zone, cooldown)


@app.command("list")
def list_command(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Every rule, with its state and any change waiting for the cooldown."""
    _, store, now, zone = _context(ctx)
    items = manage.list_rules(store, now)
    if as_json:
        print_json([rules_render.item_dict(i, zone) for i in items])
        return
    if not items:
        console().print("No rules yet: `presence rules add --help` shows how to add one.")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("name", "kind", "when", "action", "devices", "state"):
        table.add_column(column)
    for item in items:
        rule = item.rule
        table.add_row(
            rule.name,
            rule.kind.value,
            rules_render.describe_when(rule, zone),
            rules_render.describe_action(rule),
            rules_render.describe_targets(rule),
            rules_render.rule_state(item, zone),
        )
    console().print(table)


@app.command("show")
def show_command(ctx: typer.Context, name: Name, as_json: AsJson = False) -> None:
    """One rule in full, its pending change and its next occurrences."""
    context, store, now, zone = _context(ctx)
    item = manage.show_rule(store, name, now)
    if as_json:
        print_json(rules_render.item_dict(item, zone))
        return
    out = console()
    state = rules_render.rule_state(item, zone)
    out.print(f"[bold]{item.rule.name}[/bold] ({item.rule.kind.value}, {state})")
    for key, value in item.rule.fields().items():
        out.print(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
    if item.stored.pending_at is not None:
        what = "removal" if item.stored.pending_delete else "change"
        out.print(
            f"pending {what} at {rules_render.local_time(item.stored.pending_at, zone)} "
            f"(loosens: {', '.join(item.pending_reasons) or '-'})"
        )
        if item.pending is not None:
            for key, value in item.pending.fields().items():
                if item.rule.fields().get(key) != value:
                    out.print(f"  {key} -> {value}")
    coming = manage.next_occurrences(store, zone, now, context.settings.device.name, count=200)
    mine = [occ for r, occ in coming if r.name == name][:5]
    for occ in mine:
        end = f" to {rules_render.local_time(occ.end, zone)}" if occ.end else ""
        out.print(f"next: {rules_render.local_time(occ.start, zone)}{end}")


@app.command("remove")
def remove_command(ctx: typer.Context, name: Name) -> None:
    """Remove a rule (after rules.cooldown: removing loosens)."""
    context, store, now, zone = _context(ctx)
    cooldown = context.settings.rules.cooldown
    rules_render.say(manage.remove_rule(store, name, now, cooldown), zone, cooldown)


@app.command("enable")
def enable_command(ctx: typer.Context, name: Name) -> None:
    """Enable a rule (at once)."""
    context, store, now, zone = _context(ctx)
    cooldown = context.settings.rules.cooldown
    rules_render.say(manage.set_enabled(store, name, True, now, cooldown), zone, cooldown)


@app.command("disable")
def disable_command(ctx: typer.Context, name: Name) -> None:
    """Disable a rule (after rules.cooldown: disabling loosens)."""
    context, store, now, zone = _context(ctx)
    cooldown = context.settings.rules.cooldown
    rules_render.say(manage.set_enabled(store, name, False, now, cooldown), zone, cooldown)


@app.command("export")
def export_command(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """Print the rules as TOML (what `presence rules import` reads)."""
    _, store, now, _ = _context(ctx)
    text = manage.export_rules(store, now)
    if output is None:
        typer.echo(text, nl=False)
        return
    tmp = output.with_name(output.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)  # atomic: an interrupted export never leaves half a file
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise InputError(
            f"--output {str(output)!r}: cannot write: {exc.strerror}",
            hint="give a file in a directory you can write to",
        ) from None
    console().print(f"Rules written to {output}.")


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A TOML file of [[rules]] tables.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Also remove the rules the file does not list.")
    ] = False,
) -> None:
    """Add and change rules from a TOML file. Nothing changes if any rule in it is invalid."""
    context, store, now, zone = _context(ctx)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}", hint="give a readable UTF-8 file") from None
    rules = manage.parse_rules_file(text, str(file), context.settings.device.name)
    cooldown = context.settings.rules.cooldown
    today = now.astimezone(zone).date()
    outcomes = manage.import_rules(
        store, rules, now, cooldown, replace_all=replace, today=today, source=str(file)
    )
    for outcome in outcomes:
        rules_render.say(outcome, zone, cooldown)


@app.command("next")
def next_command(
    ctx: typer.Context,
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many.")] = 10,
    days: Annotated[int, typer.Option("--days", min=1, max=400, help="How far ahead.")] = 14,
    as_json: AsJson = False,
) -> None:
    """The coming occurrences of this device's scheduled rules, soonest first."""
    context, store, now, zone = _context(ctx)
    found = manage.next_occurrences(
        store, zone, now, context.settings.device.name, count=count, within=timedelta(days=days)
    )
    if as_json:
        print_json(
            [
                {
                    "rule": r.name,
                    "kind": r.kind.value,
                    "start": o.start.astimezone(zone).isoformat(),
                    "end": None if o.end is None else o.end.astimezone(zone).isoformat(),
                }
                for r, o in found
            ]
        )
        return
    if not found:
        console().print(f"Nothing scheduled in the next {days} days on this device.")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("rule", "kind", "starts", "ends", "length"):
        table.add_column(column)
    for rule, occ in found:
        table.add_row(*rules_render.occurrence_row(rule, occ, zone))
    console().print(table)
