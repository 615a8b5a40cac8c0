"""Settings validation: errors name the file, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from presence.core.errors import ConfigError
from presence.settings.files import Paths, database_url, load_settings
from presence.settings.schema import Settings, TitlePrivacy


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_no_file_means_defaults(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "missing.toml")
    assert settings == Settings()
    assert settings.sampling.interval == 1.0
    assert settings.sampling.idle_after == 120.0
    assert settings.privacy.titles is TitlePrivacy.FULL


def test_durations_accept_units(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[sampling]\ninterval = "2s"\nidle_after = "3m"\n'))
    assert settings.sampling.interval == 2.0
    assert settings.sampling.idle_after == 180.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sampling]\nintervall = 2\n", "unknown key 'sampling.intervall'"),
        ("[nonsense]\nx = 1\n", "unknown key 'nonsense'"),
        ("[sampling]\ninterval = 0.01\n", "'sampling.interval'"),
        ('[sampling]\nidle_after = "soon"\n', "'sampling.idle_after'"),
        ('[privacy]\ntitles = "some"\n', "'privacy.titles'"),
        ('[privacy]\nredact_titles = ["(unclosed"]\n', "not a regular expression"),
        ('[database]\nurl = "mysql://x"\n', "'database.url'"),
        ('[reports]\nday_start = "25:00"\n', "'reports.day_start'"),
        ('[reports]\ntimezone = "Mars/Olympus"\n', "not an IANA time zone"),
        ("[sampling]\ninterval = 10\n", "gap_after"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in caught.value.message
    assert expected in caught.value.message


def test_unknown_key_hint_lists_known_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, "[sampling]\nidle = 3\n"))
    assert caught.value.hint is not None and "idle_after" in caught.value.hint


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, "[sampling]\ninterval = = 1\n"))
    assert "line 2" in caught.value.message


def test_paths_follow_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("PRESENCE_CONFIG", raising=False)
    monkeypatch.delenv("PRESENCE_DATA_DIR", raising=False)
    paths = Paths.resolve()
    assert paths.config_file == tmp_path / "cfg" / "presence" / "config.toml"
    assert paths.default_database == tmp_path / "data" / "presence" / "presence.db"
    assert paths.lock_file == tmp_path / "run" / "presence" / "daemon.lock"
    assert database_url(Settings(), paths) == f"sqlite:///{paths.default_database}"
    monkeypatch.setenv("PRESENCE_CONFIG", str(tmp_path / "other.toml"))
    monkeypatch.setenv("PRESENCE_DATA_DIR", str(tmp_path / "d2"))
    paths = Paths.resolve()
    assert paths.config_file == tmp_path / "other.toml"
    assert paths.data_dir == tmp_path / "d2"
    assert Paths.resolve(tmp_path / "explicit.toml").config_file == tmp_path / "explicit.toml"


def test_enum_errors_list_the_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, '[reports]\nweek_start = "funday"\n'))
    assert "'reports.week_start'" in caught.value.message
    assert "monday, tuesday" in caught.value.message


def test_durations_in_every_section(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, '[rules]\ncooldown = "2d"\nsnooze = "10m"\n'))
    assert settings.rules.cooldown == 2 * 86400 and settings.rules.snooze == 600
