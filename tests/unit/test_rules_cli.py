"""`presence rules ...`, `snooze`, `override` and `focus` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from presence.core.errors import ExitCode
from tests.unit.entry_point import EntryPoint, home_with_config


@pytest.fixture
def home(private_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = '[device]\nname = "laptop"\n[reports]\ntimezone = "Europe/Berlin"\n'
    return home_with_config(private_home, monkeypatch, config)


class Cli(EntryPoint):
    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, err
        return out

    def rules(self) -> list[dict[str, object]]:
        data = json.loads(self.ok("rules", "list", "--json"))
        assert isinstance(data, list)
        return data


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch)


def test_add_every_kind_and_list(cli: Cli) -> None:
    cli.ok(
        "rules",
        "add",
        "tech-free",
        "evening",
        "--days",
        "daily",
        "--start",
        "22:00",
        "--end",
        "06:00",
        "--action",
        "lock",
    )
    cli.ok(
        "rules",
        "add",
        "device-free",
        "sunday",
        "--days",
        "sun",
        "--start",
        "10:00",
        "--end",
        "12:00",
    )
    cli.ok(
        "rules",
        "add",
        "focus",
        "deep",
        "--days",
        "weekdays",
        "--start",
        "09:00",
        "--end",
        "11:00",
        "--apps",
        "firefox,slack",
        "--action",
        "close-apps",
        "--strict",
    )
    cli.ok("rules", "add", "limit", "social", "--categories", "social", "--per-day", "1h30m")
    cli.ok("rules", "add", "break", "eyes", "--after", "50m", "--warn", "none")
    cli.ok("rules", "add", "tech-free", "xmas", "--on", "2030-12-24", "--start", "18:00",
           "--end", "23:00", "--device", "laptop,desktop", "--allow", "spotify")  # fmt: skip
    rules = {str(r["name"]): r for r in cli.rules()}
    assert sorted(rules) == ["deep", "evening", "eyes", "social", "sunday", "xmas"]
    assert rules["sunday"]["devices"] == ["laptop"]  # device-free: this device by default
    assert "devices" not in rules["evening"]  # tech-free: every device
    assert rules["deep"]["strict"] is True and rules["deep"]["action"] == "close-apps"
    assert rules["social"]["per_day"] == "1h30m" and rules["eyes"]["warn"] == []
    assert rules["xmas"]["on"] == "2030-12-24"
    table = cli.ok("rules", "list")
    assert "daily 22:00-06:00" in table and "1h 30m a day" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tech-free", "x", "--days", "daily", "--start", "22:00"], "needs --end"),
        (["tech-free", "x", "--days", "someday", "--start", "1:00", "--end", "2:00"], "--days"),
        (["focus", "x", "--days", "daily", "--start", "1:00", "--end", "2:00"], "--apps"),
        (["limit", "x", "--apps", "a", "--per-day", "lots"], "--per-day"),
        (["break", "x", "--after", "50m", "--start", "10:00"], "--start does not apply"),
        (["party", "x"], "KIND 'party'"),
    ],
)
def test_bad_input_is_exit_7_naming_the_field(cli: Cli, args: list[str], message: str) -> None:
    code, _out, err = cli("rules", "add", *args)
    assert code == ExitCode.INPUT
    assert message in err and "hint:" in err and "Traceback" not in err


def test_loosening_waits_tightening_does_not(cli: Cli, home: Path) -> None:
    cli.ok("rules", "add", "tech-free", "evening", "--days", "daily", "--start", "22:00",
           "--end", "06:00")  # fmt: skip
    out = cli.ok("rules", "edit", "evening", "--end", "05:00")
    assert "loosens it (shorter window)" in out and "24h" in out
    assert cli.rules()[0]["end"] == "06:00"
    pending = cli.rules()[0]["pending"]
    assert isinstance(pending, dict) and pending["loosening"] == ["shorter window"]
    out = cli.ok("rules", "edit", "evening", "--end", "07:00", "--action", "lock")
    assert "in force now" in out
    rule = cli.rules()[0]
    assert rule["end"] == "07:00" and rule["pending"] is None
    assert "loosens" in cli.ok("rules", "disable", "evening")
    assert cli.rules()[0]["enabled"] is True
    assert "pending change was dropped" in cli.ok("rules", "enable", "evening")
    assert "removed at" in cli.ok("rules", "remove", "evening")
    assert len(cli.rules()) == 1
    config = home / "cfg" / "presence" / "config.toml"
    config.write_text(config.read_text() + "[rules]\ncooldown = 0\n")
    # issue 10: a device's settings file cannot loosen the shared rules
    assert "removed at" in cli.ok("rules", "remove", "evening")
    assert len(cli.rules()) == 1
    # the rule set's policy can: lowering its cooldown loosens, so it waits too
    assert "will change at" in cli.ok("rules", "policy", "--cooldown", "0")
    assert "24h" in cli.ok("rules", "policy")
    assert "in force now" in cli.ok("rules", "policy", "--cooldown", "2d")  # tightening
    assert len(cli.rules()) == 1


def test_export_import_round_trip(cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.ok(
        "rules",
        "add",
        "tech-free",
        "evening",
        "--days",
        "mon-fri",
        "--start",
        "22:00:30",
        "--end",
        "06:00",
        "--warn",
        "15m,5m,1m",
        "--grace",
        "2m",
    )
    cli.ok("rules", "add", "limit", "social", "--apps", "mastodon", "--per-day", "45m",
           "--action", "pause-apps")  # fmt: skip
    exported = home / "rules.toml"
    cli.ok("rules", "export", "-o", str(exported))
    before = cli.rules()
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "elsewhere"))
    assert cli.rules() == []
    out = cli.ok("rules", "import", str(exported))
    assert out.count("added") == 2
    assert cli.rules() == before


def test_import_refuses_a_bad_file_whole(cli: Cli, home: Path) -> None:
    bad = home / "bad.toml"
    bad.write_text(
        '[[rules]]\nname = "ok"\nkind = "break"\nafter = "50m"\n\n'
        '[[rules]]\nname = "night"\nkind = "tech-free"\ndays = "daily"\nstart = "22:00"\n'
        'end = "noon"\n'
    )
    code, _, err = cli("rules", "import", str(bad))
    assert code == ExitCode.INPUT
    assert f"{bad}: rule 'night': end 'noon' is not a time" in err
    assert cli.rules() == []


def test_next_shows_clock_changes(cli: Cli) -> None:
    cli.ok("rules", "add", "tech-free", "night", "--days", "daily", "--start", "22:00",
           "--end", "06:00")  # fmt: skip
    data = json.loads(cli.ok("rules", "next", "--days", "400", "-n", "400", "--json"))
    assert len(data) >= 365
    assert all(item["start"].endswith(("+01:00", "+02:00")) for item in data)
    table = cli.ok("rules", "next", "--days", "400", "-n", "400")
    assert "(clock change)" in table


def test_snooze_override_and_focus_errors(cli: Cli) -> None:
    code, _, err = cli("snooze")
    assert code == ExitCode.INPUT and "no rule is in force" in err
    cli.ok("rules", "add", "tech-free", "night", "--days", "daily", "--start", "22:00",
           "--end", "06:00", "--strict")  # fmt: skip
    code, _, err = cli("override", "night", "--reason", "guests")
    assert code == ExitCode.INPUT and "strict" in err
    cli.ok("rules", "add", "tech-free", "late", "--days", "daily", "--start", "23:00",
           "--end", "23:30")  # fmt: skip
    assert "is skipped" in cli.ok("override", "late", "--reason", "guests")
    code, _, err = cli("override", "late", "--reason", "again")
    assert code == ExitCode.INPUT and "overridden already" in err
    code, _, err = cli("focus", "25m")
    assert code == ExitCode.INPUT and "rules.focus_apps" in err
    out = cli.ok("focus", "25m", "--apps", "firefox", "--name", "write")
    assert "Focus until" in out and "firefox off limits" in out
    focus = next(r for r in cli.rules() if r["name"] == "write")
    assert focus["grace"] == "0s" and "at" in focus and "until" in focus
