"""`presence categories list|add|remove|test`: the rules that put windows into categories."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from presence.cli.context import AppContext
from presence.cli.render import console, print_json
from presence.core.clock import SystemClock
from presence.rulebook.categories import CategoryChange, check_change
from presence.rulebook.policy import defaults_for
from presence.tracking.categories import OTHER, add_category, explain, listing, remove_category

if TYPE_CHECKING:
    from presence.store.reporting import ReportQueries

app = typer.Typer(
    help="Categories for reports: regular expressions over app and window title.",
    no_args_is_help=True,
)

AppPattern = Annotated[
    str | None, typer.Option("--app", help="Regular expression searched in the app name.")
]
TitlePattern = Annotated[
    str | None, typer.Option("--title", help="Regular expression searched in the window title.")
]


def _queries(ctx: typer.Context) -> ReportQueries:
    context: AppContext = ctx.obj
    return context.report_queries()


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The rules in force, most specific first (the first that matches a window wins)."""
    found = listing(_queries(ctx))
    rules = sorted(found.rules, key=lambda r: r.specificity, reverse=True)
    if as_json:
        print_json(
            {
                "rules": [
                    {
                        "name": r.name,
                        "app": r.app,
                        "title": r.title,
                        "looks_at": r.looks_at,
                        "source": "built-in" if r.builtin else "user",
                    }
                    for r in rules
                ],
                "replaced_builtin": found.replaced,
            }
        )
        return
    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column("category", no_wrap=True)
    table.add_column("source", no_wrap=True)
    table.add_column("matches where", overflow="fold")
    for rule in rules:
        table.add_row(
            rule.name,
            "built-in" if rule.builtin else "yours",
            " and ".join(
                f"{field} ~ {pattern}"
                for field, pattern in (("app", rule.app), ("title", rule.title))
                if pattern is not None
            ),
        )
    out = console()
    out.print(table)
    if found.replaced:
        out.print(f"built-in rules replaced by yours: {', '.join(found.replaced)}")


def _guard(ctx: typer.Context, change: CategoryChange) -> None:
    """Refuse a change that takes windows out of a category a rule targets (issue 10)."""
    context: AppContext = ctx.obj
    check_change(
        context.rule_store(),
        _queries(ctx),
        change,
        SystemClock().now(),
        defaults_for(context.settings),
    )


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Category name, e.g. reading.")],
    app_pattern: AppPattern = None,
    title_pattern: TitlePattern = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Your rules of this name replace the built-in ones."),
    ] = False,
) -> None:
    """Add a rule: windows matching --app and/or --title belong to NAME."""
    change = CategoryChange("add", name, app_pattern, title_pattern, replace)
    if app_pattern is not None or title_pattern is not None:
        _guard(ctx, change)  # validated first by add_category's own checks otherwise
    rule = add_category(
        _queries(ctx), name, app_pattern, title_pattern, replace, SystemClock().now()
    )
    what = " and ".join(
        f"{field} ~ {shown(pattern)}"
        for field, pattern in (("app", rule.app), ("title", rule.title))
        if pattern is not None
    )
    console().print(f"Added: {what} → {rule.name}", markup=False)


def shown(pattern: str) -> str:
    """A regular expression quoted as typed (repr() would double each backslash), control
    characters escaped so the line stays one line."""
    escaped = "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in pattern
    )
    return f"'{escaped}'"


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Category name.")],
    app_pattern: AppPattern = None,
    title_pattern: TitlePattern = None,
) -> None:
    """Remove your rules of NAME (only the one with these patterns, when given)."""
    _guard(ctx, CategoryChange("remove", name, app_pattern, title_pattern))
    count = remove_category(_queries(ctx), name, app_pattern, title_pattern)
    console().print(f"Removed {count} rule{'s' if count != 1 else ''} of {name}.", markup=False)


@app.command("test")
def test(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="An app name (WM_CLASS), e.g. firefox.")],
    title: Annotated[str | None, typer.Argument(help="A window title.")] = None,
) -> None:
    """Which category an app (and title) gets, and every rule that matches, winner first."""
    rules = explain(_queries(ctx), text, title)
    out = console()
    if not rules:
        out.print(f"{OTHER} (no rule matches)", markup=False)
        return
    out.print(rules[0].name, markup=False)
    for rule in rules:
        pattern = " and ".join(
            f"{field} ~ {shown(value)}"
            for field, value in (("app", rule.app), ("title", rule.title))
            if value is not None
        )
        source = "built-in" if rule.builtin else "yours"
        out.print(f"  {rule.name}: {pattern} ({source})", markup=False, soft_wrap=True)
