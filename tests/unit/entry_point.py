"""Running presence's real entry point (`presence.cli.main`) in the test process, as the CLI
tests do: argv set, SystemExit caught, output captured."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from presence.cli import main


def run_presence(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    """`presence ARGS...`: (exit status, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["presence", *args])
    with pytest.raises(SystemExit) as exited:
        main()
        raise SystemExit(0)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


class EntryPoint:
    """run_presence bound to a test's capsys and monkeypatch: `cli(*args)`."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *args: str) -> tuple[int, str, str]:
        return run_presence(self.capsys, self.monkeypatch, *args)


def home_with_config(home: Path, monkeypatch: pytest.MonkeyPatch, config: str) -> Path:
    """`home` (a private_home) with `config` as the user's config.toml, and a terminal 200
    columns wide (rich wraps at the terminal's width)."""
    monkeypatch.setenv("COLUMNS", "200")
    path = home / "cfg" / "presence" / "config.toml"
    path.parent.mkdir()
    path.write_text(config)
    return home
