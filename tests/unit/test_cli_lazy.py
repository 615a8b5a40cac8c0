"""The root command loads command modules on demand (presence/cli/app.py, issue 13).

`presence --help` lists commands from a static table; these tests keep that table in step with
the real modules, and check that an everyday command imports only what it uses.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperCommand
from typer.testing import CliRunner

from presence.cli.app import COMMANDS, app, load

WIDE = 10**6


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_table_help_is_the_commands_own(name: str) -> None:
    command = load(name)
    assert command.name == name
    listed = TyperCommand(name=name, help=COMMANDS[name].short_help)
    assert listed.get_short_help_str(WIDE) == command.get_short_help_str(WIDE), (
        f"update COMMANDS[{name!r}] in presence/cli/app.py"
    )


def test_every_top_level_command_of_a_listed_module_is_in_the_table() -> None:
    for module_name in {e.module for e in COMMANDS.values() if e.group is None} - {
        "presence.cli.run"
    }:
        module = importlib.import_module(module_name)
        holder = typer.Typer()
        holder.add_typer(module.app)
        for name in typer.main.get_group(holder).commands:
            assert COMMANDS.get(name, None) is not None, f"add {name!r} to COMMANDS"
            assert COMMANDS[name].module == module_name


def test_the_root_group_resolves_every_listed_command() -> None:
    root = typer.main.get_group(app)
    assert root.list_commands(None) == list(COMMANDS)  # type: ignore[arg-type]
    assert root.get_command(None, "nosuch") is None  # type: ignore[arg-type]
    assert root.get_command(None, "today").name == "today"  # type: ignore[arg-type,union-attr]


def _modules_after(argv: list[str], tmp_path: Path) -> tuple[str, list[str]]:
    """Run `presence ARGV` in a fresh interpreter; its output and the modules it imported."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('MODULES ' + ' '.join(sorted(sys.modules))))\n"
        f"sys.argv = ['presence', *{argv!r}]\n"
        "from presence.cli import main\n"
        "main()\n"
    )
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }
    env.pop("PRESENCE_CONFIG", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, result.stderr.rsplit("MODULES ", 1)[1].split()


def test_help_lists_every_command_without_importing_them(tmp_path: Path) -> None:
    out, modules = _modules_after(["--help"], tmp_path)
    rows = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [row.split()[0] for row in rows if not row.startswith("    ")] == list(COMMANDS)
    assert "sqlalchemy" not in modules
    assert not {e.module for e in COMMANDS.values()} & set(modules)


def test_today_imports_neither_other_commands_nor_the_postgresql_dialect(tmp_path: Path) -> None:
    _, modules = _modules_after(["today"], tmp_path)
    assert "presence.cli.report" in modules
    for other in ("presence.cli.household", "presence.cli.rules", "presence.cli.data"):
        assert other not in modules
    assert "sqlalchemy.dialects.postgresql" not in modules


def _eager() -> typer.Typer:
    """The root app wired the way it was before commands were loaded on demand."""
    from presence.cli import run  # noqa: PLC0415
    from presence.cli.root import new_app  # noqa: PLC0415

    eager = new_app()
    run.register(eager)
    for name, entry in COMMANDS.items():
        if entry.module == "presence.cli.run":
            continue
        module = importlib.import_module(entry.module)
        if entry.group is not None:
            eager.add_typer(module.app, name=entry.group)
        elif not any(
            e.module == entry.module for e in list(COMMANDS.values())[: list(COMMANDS).index(name)]
        ):
            eager.add_typer(module.app)  # a module's top-level commands, added once
    return eager


@pytest.mark.parametrize("argv", [["--help"], *([name, "--help"] for name in COMMANDS)])
def test_help_is_what_eager_wiring_printed(argv: list[str]) -> None:
    runner = CliRunner()
    lazy = runner.invoke(app, argv, prog_name="presence")
    eager = runner.invoke(_eager(), argv, prog_name="presence")
    assert lazy.exit_code == eager.exit_code == 0
    assert lazy.output == eager.output
