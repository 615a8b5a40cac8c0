"""`presence today` and `presence report` without Typer or SQLAlchemy (presence.cli.report_fast,
issue 13): the same bytes as the full command on the same database, none of those libraries
loaded, and everything it does not take handed to the full command."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command

from presence.cli import report_fast
from presence.core.clock import SystemClock
from presence.core.errors import ExitCode, StorageError
from presence.core.model import Span, SpanState
from presence.settings.files import Paths, database_url
from presence.settings.schema import Settings
from presence.store import RuleStore, Store, database
from presence.store.sqlite_reads import SqliteReads
from tests.unit.entry_point import home_with_config, run_presence

NOW = datetime(2026, 6, 10, 16, 30, tzinfo=UTC)  # a Wednesday, 18:30 in Berlin
CONFIG = '[reports]\ntimezone = "Europe/Berlin"\n[device]\nname = "laptop"\n'


def _fill(store: Store) -> None:
    """Three weeks to NOW on `laptop` (runs, spans, a pause, rule events, a category of the
    user's), and a second device whose time a report of this device leaves out."""
    laptop = store.device("laptop", "h", NOW)
    desk = store.device("desk", "h", NOW)
    rules = RuleStore(store)
    for n in range(21):
        start = NOW - timedelta(days=n, hours=6)
        run = store.start_run(laptop.id, 100 + n, "0.1", start)
        spans = []
        at = start
        for k, (app, title, state) in enumerate(
            [
                ("firefox", "YouTube", SpanState.ACTIVE),
                ("Code", "a.py", SpanState.ACTIVE),
                ("Code", "a.py", SpanState.IDLE),
                (None, None, SpanState.LOCKED),
                ("firefox", "arxiv", SpanState.ACTIVE),
            ]
        ):
            length = timedelta(minutes=7 + 5 * k + n % 4)
            spans.append(Span(at, at + length, app, title, state, 7200, site=None))
            at += length + timedelta(minutes=k)
        store.save_spans(laptop.id, run, spans)
        store.end_run(run, at, "stop")
        store.save_spans(
            desk.id, None, [Span(start, start + timedelta(hours=1), "vim", "x", SpanState.ACTIVE)]
        )
        occurrence = (start - timedelta(hours=2), start - timedelta(hours=1))
        rules.log(start, "evening", "start", occurrence=occurrence, device_id=laptop.id)
        outcome = "broken" if n % 5 == 0 else "kept"
        detail = {"minutes_used": 3} if outcome == "broken" else None
        rules.log(start, "evening", outcome, occurrence=occurrence, detail=detail)
    store.add_pause(laptop.id, NOW - timedelta(hours=3), NOW - timedelta(hours=2), "lunch")
    store.report_queries().add_category("reading", None, "arxiv", False, NOW)


@pytest.fixture
def history(private_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home with CONFIG, its database filled (the default SQLite file), the clock at NOW."""
    home_with_config(private_home, monkeypatch, CONFIG)
    store = Store.open(database_url(Settings(), Paths.resolve()))
    try:
        _fill(store)
    finally:
        store.close()
    monkeypatch.setattr(SystemClock, "now", lambda self: NOW)
    return private_home


ARGVS = [
    ["today"],
    ["today", "-f", "json"],
    ["today", "--format=csv"],
    ["report"],
    ["report", "--week"],
    ["report", "--week", "--date", "2026-06-03", "--format", "json"],
    ["report", "--month", "-f", "table"],
    ["report", "--month", "--date=2026-05-20", "-f", "json"],
    ["report", "--day", "--date", "2026-06-09", "--format", "csv"],
    ["report", "--date", "2026-06-09", "--day", "-f", "json"],
]


HOUSEHOLD = [  # issue 12's options: through the store (and its household section), no Typer
    ["today", "--device", "all"],
    ["report", "--week", "--device", "all", "-f", "json"],
    ["report", "--device=desk", "--month"],
    ["report", "--person", "all", "--format", "csv"],
]


@pytest.mark.parametrize("argv", ARGVS + HOUSEHOLD, ids=" ".join)
def test_the_fast_path_prints_what_the_full_command_prints(
    history: Path,
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert report_fast.fast_main(argv) == 0  # it answered
    fast = capsys.readouterr().out
    monkeypatch.setenv(report_fast.OFF, "1")
    code, full, err = run_presence(capsys, monkeypatch, *argv)
    assert (code, err) == (0, "")
    assert fast == full
    named = any(word.startswith("--device") for word in argv)
    assert ("vim" in fast) == named  # the other device's time, only when devices are named
    if "--device=desk" not in argv:
        assert "firefox" in fast  # a report of this device's time, not an empty one
    if "json" in argv or "--format=json" in argv:  # adherence and the user's category too
        assert '"rule": "evening"' in fast and '"category": "reading"' in fast
        assert ('"household": {' in fast) == ("all" in argv)


@pytest.mark.parametrize(
    "argv", [["report", "--device", "tablet"], ["report", "--zone", "attic"]], ids=" ".join
)
def test_an_unknown_device_or_zone_is_the_full_commands_error(
    history: Path,
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast = run_presence(capsys, monkeypatch, *argv)
    monkeypatch.setenv(report_fast.OFF, "1")
    assert fast == run_presence(capsys, monkeypatch, *argv)
    assert fast[0] == ExitCode.INPUT and argv[-1] in fast[2] and fast[1] == ""


LIBRARIES = ("sqlalchemy", "typer", "pydantic", "click", "alembic")
RUNNER = (
    "import sys\n"
    "from presence.cli import main\n"
    "sys.argv = ['presence', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exc:\n"
    "    assert exc.code in (0, None), exc.code\n"
    "top = {m.split('.')[0] for m in sys.modules}\n"
    f"print('LOADED', sorted(top & {set(LIBRARIES)!r}), file=sys.stderr)\n"
)


@pytest.mark.parametrize("argv", [["today"], ["report", "--week", "-f", "json"]], ids=" ".join)
def test_today_and_report_load_no_typer_pydantic_or_sqlalchemy(
    history: Path, argv: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout  # the report
    assert "LOADED []" in done.stderr


def test_a_household_report_loads_no_typer_or_pydantic(history: Path) -> None:
    argv = ["report", "--week", "--date", "2026-06-10", "--device", "all"]
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Household" in done.stdout
    loaded = done.stderr.split("LOADED ", 1)[1]
    assert "sqlalchemy" in loaded  # the store's
    assert not any(name in loaded for name in ("typer", "pydantic", "click"))


@pytest.mark.parametrize(
    "argv",
    [
        ["today", "--by", "app"],
        ["today", "--zone", "bedroom"],
        ["report", "--device"],
        ["report", "--device", "--week"],
        ["report", "--person", "a", "--person", "b"],
        ["today", "--week"],
        ["report", "--from", "2026-06-01"],
        ["report", "--week", "--month"],
        ["report", "--week", "--week"],
        ["report", "--date", "2026-02-30"],
        ["report", "--date"],
        ["report", "-f", "html"],
        ["report", "-fjson"],
        ["report", "--help"],
        ["report", "extra"],
        ["--config", "x.toml", "today"],
        ["trends"],
    ],
    ids=" ".join,
)
def test_what_it_does_not_take_is_left_to_the_full_command(argv: list[str]) -> None:
    assert report_fast.parse(argv) is None


def test_an_unknown_option_gets_the_full_commands_usage_error(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_presence(capsys, monkeypatch, "today", "--bogus")
    assert code == ExitCode.USAGE
    assert "No such option: --bogus" in err and out == ""
    code, _, err = run_presence(capsys, monkeypatch, "report", "--date", "2026-13-01")
    assert code == ExitCode.INPUT
    assert "--date '2026-13-01' is not a date" in err


def test_a_missing_database_is_created_by_the_full_command(
    private_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home_with_config(private_home, monkeypatch, CONFIG)
    assert report_fast.fast_main(["today"]) is None
    code, out, _ = run_presence(capsys, monkeypatch, "today")
    assert code == 0 and "No activity recorded" in out
    assert Paths.resolve().default_database.exists()


def test_an_older_schema_is_migrated_by_the_full_command(
    private_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home_with_config(private_home, monkeypatch, CONFIG)
    path = Paths.resolve().default_database
    path.parent.mkdir(parents=True)
    engine = database.create(f"sqlite:///{path}")
    config = database._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    engine.dispose()
    assert SqliteReads.open(f"sqlite:///{path}") is None
    code, out, _ = run_presence(capsys, monkeypatch, "report", "--week", "--date", "2026-06-03")
    assert code == 0 and "No activity recorded" in out
    with sqlite3.connect(path) as db:
        revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == (database.HEAD_REVISION,)
    reader = SqliteReads.open(f"sqlite:///{path}")
    assert reader is not None
    reader.close()


def test_postgresql_goes_through_the_store(
    private_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/presence"  # nothing listens on port 9
    home_with_config(private_home, monkeypatch, CONFIG + f'[database]\nurl = "{url}"\n')
    with pytest.raises(StorageError):  # the store's own error, as the full command meets it
        report_fast.fast_main(["today"])
    code, _, err = run_presence(capsys, monkeypatch, "today")
    assert code == ExitCode.STORAGE
    assert "presence: error:" in err and "127.0.0.1" in err
    monkeypatch.setenv(report_fast.OFF, "1")
    assert run_presence(capsys, monkeypatch, "today") == (code, "", err)


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///:memory:", "sqlite:///a.db?mode=ro", "sqlite:///~/a.db", "mysql://x"],
)
def test_urls_it_leaves_to_sqlalchemy(url: str) -> None:
    assert SqliteReads.open(url) is None


def test_a_file_that_is_not_a_database_is_left_to_the_full_command(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    path.write_text("not a database")
    assert SqliteReads.open(f"sqlite:///{path}") is None
