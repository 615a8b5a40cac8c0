"""The CLI through its real entry point: output, JSON shape, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer.main

from presence.cli import _command
from presence.cli.app import app
from presence.cli.run import parser
from presence.core.errors import ExitCode
from presence.core.model import Span, SpanState
from presence.settings.files import Paths, database_url
from presence.settings.schema import Settings
from presence.store import Store
from tests.unit.entry_point import run_presence


@pytest.fixture
def home(private_home: Path) -> Path:
    return private_home


cli = run_presence  # the name the other CLI tests import


def test_config_path_and_show(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "config", "path")
    assert code == 0 and out.strip() == str(home / "cfg" / "presence" / "config.toml")
    code, out, _ = cli(capsys, monkeypatch, "config", "show")
    assert code == 0 and "[sampling]" in out and "idle_after = 120.0" in out


def test_invalid_config_is_exit_3_with_file_and_key(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = home / "cfg" / "presence" / "config.toml"
    config.parent.mkdir()
    config.write_text("[sampling]\nidle_after = -4\n")
    code, out, err = cli(capsys, monkeypatch, "config", "check")
    assert code == ExitCode.CONFIG
    assert str(config) in err and "sampling.idle_after" in err
    assert "Traceback" not in err + out


def test_bad_date_is_an_input_error(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = cli(capsys, monkeypatch, "report", "--day", "--date", "2026-13-01")
    assert code == ExitCode.INPUT and "--date" in err and "YYYY-MM-DD" in err


def test_bad_duration_is_an_input_error(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = cli(capsys, monkeypatch, "pause", "soon")
    assert code == ExitCode.INPUT and "DURATION" in err


def test_unknown_option_is_a_usage_error(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = cli(capsys, monkeypatch, "report", "--fortnight")
    assert code == ExitCode.USAGE and "--fortnight" in err


def test_report_json_shape(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = Paths.resolve()
    settings = Settings()
    store = Store.open(database_url(settings, paths))
    device = store.device(settings.device.name, "h", datetime.now(UTC))
    noon = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
    store.save_spans(
        device.id,
        None,
        [
            Span(noon, noon + timedelta(minutes=30), "AppAlpha", "a", SpanState.ACTIVE),
            Span(
                noon + timedelta(minutes=30),
                noon + timedelta(minutes=40),
                "AppAlpha",
                "a",
                SpanState.IDLE,
            ),
            Span(
                noon + timedelta(minutes=40),
                noon + timedelta(minutes=50),
                "AppBeta",
                "b",
                SpanState.ACTIVE,
            ),
        ],
    )
    code, out, _ = cli(
        capsys, monkeypatch, "report", "--day", "--date", "2026-06-10", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["totals"]["active_seconds"] == 2400
    assert data["totals"]["idle_seconds"] == 600
    assert data["totals"]["locked_seconds"] == 0
    assert data["apps"] == [
        {"app": "AppAlpha", "active_seconds": 1800, "idle_seconds": 600},
        {"app": "AppBeta", "active_seconds": 600, "idle_seconds": 0},
    ]
    assert data["period"]["start"].startswith("2026-06-10T04:00")
    code, out, _ = cli(
        capsys, monkeypatch, "report", "--week", "--date", "2026-06-10", "--format", "csv"
    )
    assert out.splitlines()[0] == "period_start,period_end,app,active_seconds,idle_seconds"
    assert len(out.splitlines()) == 3
    code, out, _ = cli(capsys, monkeypatch, "report", "--day", "--date", "2026-06-10")
    assert "AppAlpha" in out and "30m 00s" in out


def test_pause_resume_and_status(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "status")
    assert code == 0 and "not running" in out
    code, out, _ = cli(capsys, monkeypatch, "pause", "30m", "--reason", "dinner")
    assert code == 0 and "Paused for 30m" in out
    code, out, _ = cli(capsys, monkeypatch, "status", "--json")
    assert json.loads(out)["paused"]["reason"] == "dinner"
    code, out, _ = cli(capsys, monkeypatch, "resume")
    assert code == 0 and "resumed" in out
    code, out, _ = cli(capsys, monkeypatch, "resume")
    assert "nothing to resume" in out


def test_damaged_database_no_traceback(home: Path) -> None:
    db = home / "data" / "presence" / "presence.db"
    db.parent.mkdir(mode=0o700)
    db.write_bytes(b"garbage" * 1000)
    result = subprocess.run(
        [sys.executable, "-m", "presence", "today"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == ExitCode.STORAGE
    assert "damaged" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["run"], "run"),
        (["--config", "x.toml", "run"], "run"),
        (["-c", "run", "today"], "today"),  # `run` is the option's value here
        (["--config=x.toml", "--debug", "run"], "run"),
        (["--help"], None),
        (["--version", "run"], None),
        ([], None),
        (["report", "--week"], "report"),
    ],
)
def test_command_word_picks_the_lean_path(argv: list[str], command: str | None) -> None:
    assert _command(argv) == command


def test_run_help_on_the_lean_path() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "presence", "--config", "/nonexistent.toml", "run", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "Run the daemon in the foreground" in result.stdout


def test_the_lean_run_parser_mirrors_the_root_options() -> None:
    root = typer.main.get_command(app)
    typer_options = {
        opt for param in root.params if param.param_type_name == "option" for opt in param.opts
    } - {"--version", "--help"}
    lean_options = {opt for action in parser()._actions for opt in action.option_strings} - {
        "-h",
        "--help",
    }
    assert lean_options == typer_options
