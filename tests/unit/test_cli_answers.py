"""Issue 11: each bad or odd input a new user tried is answered with a clear error (what, where,
what to do; a documented exit status, never an internal error) or handled right."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.duration import format_until
from presence.core.errors import ExitCode
from tests.unit.entry_point import EntryPoint, home_with_config


@pytest.fixture
def home(private_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = '[device]\nname = "vm"\n[reports]\ntimezone = "UTC"\n'
    return home_with_config(private_home, monkeypatch, config)


class Cli(EntryPoint):
    def __call__(self, *args: str) -> tuple[int, str, str]:
        code, out, err = super().__call__(*args)
        assert "internal error" not in err and "Traceback" not in err
        return code, out, err

    def refused(self, *args: str, code: int = ExitCode.INPUT) -> str:
        got, out, err = self(*args)
        assert got == code, (got, out, err)
        return err


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch)


@pytest.mark.parametrize(
    "args",
    [
        ("focus", "99999999999999h", "--apps", "firefox"),
        ("focus", "1000000000000000000000s", "--apps", "firefox"),
        ("focus", "8d", "--apps", "firefox"),
        ("pause", "99999999999999h"),
        ("pause", "inf"),
        ("pause", "nan"),
        ("snooze", "99h"),
    ],
)
def test_overflowing_durations_are_refused_with_the_bound(cli: Cli, args: tuple[str, ...]) -> None:
    err = cli.refused(*args)
    assert "DURATION must be at most" in err or "not a duration" in err
    assert "hint:" in err


@pytest.mark.parametrize(
    "args",
    [
        ("report", "--date", "9999-12-31"),
        ("report", "--date", "0001-01-01"),
        ("report", "--from", "0001-01-02"),
        ("report", "--month", "--date", "9999-12-01"),
        ("trends", "--date", "0001-01-01"),
        ("report", "--from", "1970-01-01", "--to", "9998-12-31"),
    ],
)
def test_extreme_report_dates_are_refused(cli: Cli, args: tuple[str, ...]) -> None:
    err = cli.refused(*args)
    assert "outside the dates reports cover" in err or "longer than" in err
    assert "hint:" in err


def test_the_edges_of_the_report_dates_work(cli: Cli) -> None:
    assert cli("report", "--month", "--date", "9998-12-31", "--format", "json")[0] == 0
    assert cli("trends", "--date", "1970-01-01", "--weeks", "520", "--format", "json")[0] == 0


def test_a_misspelt_tz_is_a_settings_error(
    cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "cfg" / "presence" / "config.toml").write_text('[device]\nname = "vm"\n')
    monkeypatch.setenv("TZ", "Nonsense/Zone")  # reports.timezone = local: $TZ decides
    # tzlocal keeps the zone it found first in this process; a new `presence` has none yet
    import tzlocal.unix  # noqa: PLC0415

    monkeypatch.setattr(tzlocal.unix, "_cache_tz", None)
    err = cli.refused("today", code=ExitCode.CONFIG)
    assert "TZ='Nonsense/Zone' is not a time zone" in err and "reports.timezone" in err


def test_moments_not_today_carry_their_date(cli: Cli) -> None:
    # the settings' zone is UTC
    _, out, _ = cli("pause", "2d")
    assert f"until {(datetime.now(UTC) + timedelta(days=2)).date().isoformat()} " in out
    _, out, _ = cli("focus", "1d2h", "--apps", "firefox")
    assert f"Focus until {(datetime.now(UTC) + timedelta(days=1, hours=2)):%Y-%m-%d %H:}" in out


def test_format_until_shows_the_date_only_when_not_today() -> None:
    moment = datetime(2026, 11, 30, 2, 38, 5)
    assert format_until(moment, date(2026, 11, 30)) == "02:38"
    assert format_until(moment, date(2026, 11, 29)) == "2026-11-30 02:38"
    assert format_until(moment, date(2026, 11, 29), seconds=True) == "2026-11-30 02:38:05"


def test_reasons_are_bounded(cli: Cli) -> None:
    err = cli.refused("pause", "1m", "--reason", "x" * 100_000)
    assert "at most 255" in err
    assert "control characters" in cli.refused("pause", "1m", "--reason", "a\nb")
    assert cli("pause", "1m", "--reason", "x" * 255)[0] == 0


def test_rules_out_of_bounds_are_refused(cli: Cli) -> None:
    err = cli.refused(
        "rules",
        "add",
        "tech-free",
        "old",
        "--on",
        "2001-01-01",
        "--start",
        "09:00",
        "--end",
        "10:00",
    )
    assert "2001-01-01 is in the past" in err
    for per_day in ("25h", "99999999999h"):
        err = cli.refused("rules", "add", "limit", "web", "--apps", "firefox", "--per-day", per_day)
        assert "--per-day" in err
    hour = ("rules", "add", "tech-free", "hour", "--days", "daily", "--start", "09:00")
    err = cli.refused(*hour, "--end", "10:00", "--warn", "48h")
    assert "--warn 48h is not shorter than the 1h it warns of" in err
    assert cli(*hour, "--end", "10:00", "--warn", "30m")[0] == 0
    # a rule already stored stays editable in its other fields
    assert cli("rules", "edit", "hour", "--end", "11:00")[0] == 0


def test_importing_a_device_free_rule_names_this_device_and_takes_device(
    cli: Cli, tmp_path: Path
) -> None:
    file = tmp_path / "import1.toml"
    file.write_text(
        '[[rules]]\nname = "lunch"\nkind = "device-free"\ndays = "daily"\n'
        'start = "12:00"\nend = "13:00"\n'
    )
    err = cli.refused("rules", "import", str(file))
    assert f"{file}: rule 'lunch': devices is missing" in err
    assert 'devices = ["vm"]' in err
    file.write_text(file.read_text() + 'device = "vm"\n')
    assert cli("rules", "import", str(file))[0] == 0


def test_a_data_dir_that_cannot_be_made_private_is_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno  # noqa: PLC0415

    from presence.core.errors import StorageError  # noqa: PLC0415
    from presence.settings.files import ensure_private_dir  # noqa: PLC0415

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)

    def refuse(self: Path, mode: int) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "chmod", refuse)
    with pytest.raises(StorageError) as failed:
        ensure_private_dir(shared)
    assert failed.value.exit_code == ExitCode.STORAGE and "Read-only" in failed.value.message


def test_categories_show_patterns_as_typed(cli: Cli) -> None:
    _, out, _ = cli("categories", "add", "digits", "--app", r"^\d+x$")
    assert r"app ~ '^\d+x$' → digits" in out
    _, out, _ = cli("categories", "test", "12x")
    assert out.splitlines()[0] == "digits" and r"'^\d+x$'" in out and r"\\d" not in out


def test_an_unsplittable_lock_command_is_reported(cli: Cli, home: Path) -> None:
    config = home / "cfg" / "presence" / "config.toml"
    config.write_text('[rules]\nlock_command = "slock \\"oops"\n')
    for args in (("config", "check"), ("doctor",)):
        err = cli.refused(*args, code=ExitCode.CONFIG)
        assert f"{config}: 'rules.lock_command'" in err and "cannot be split" in err


def test_gaps_across_years_show_the_year_and_html_days_are_iso(cli: Cli, home: Path) -> None:
    from presence.settings.files import Paths  # noqa: PLC0415
    from presence.store import Store  # noqa: PLC0415

    cli("status")  # creates the database
    store = Store.open(f"sqlite:///{Paths.resolve().default_database}")
    device = store.device("vm", "h", datetime(2024, 12, 30, tzinfo=UTC))
    run = store.start_run(device.id, 1, "t", datetime(2024, 12, 30, 10, tzinfo=UTC))
    store.end_run(run, datetime(2024, 12, 30, 11, tzinfo=UTC), "stopped")
    _, out, _ = cli("report", "--from", "2024-12-30", "--to", "2025-01-01")
    assert "Mon 2024-12-30 11:00 → Thu 2025-01-02 04:00  not running" in out
    html = home / "month.html"
    assert cli("report", "--month", "--date", "2024-12-05", "--html", str(html))[0] == 0
    text = html.read_text()
    assert "12-01" in text and "01.12" not in text
