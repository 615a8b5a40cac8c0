"""`presence status` from the daemon's snapshot: the bar formats, --follow, and the snapshot
the daemon builds (windows in force and next, today's active time)."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from presence.cli import status_fast
from presence.core.errors import ExitCode
from presence.core.model import Span, SpanState
from presence.daemon.glance import smallest_limit, windows
from presence.health import snapshot
from presence.rules.model import parse_rule
from presence.settings.files import Paths, database_url
from presence.settings.schema import Settings
from presence.store import Store
from presence.store.totals import Totals
from tests.unit.entry_point import run_presence

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 27, 19, 30, tzinfo=UTC)  # 20:30 in Berlin, a Friday


def snap(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": 1,
        "device": "laptop",
        "pid": os.getpid(),
        "run_started": "2026-11-27T08:00:00+01:00",
        "zone": "Europe/Berlin",
        "current": {"app": "Firefox", "state": "active", "since": "2026-11-27T20:00:00+01:00"},
        "day": {"start": "2026-11-27T04:00:00+01:00", "end": "2026-11-28T04:00:00+01:00"},
        "active_before_s": 3600.0,
        "paused": None,
        "rule": None,
        "next": None,
        "limit_s": None,
        "offline": False,
        "faults": [],
    }
    data.update(over)
    return data


def test_active_today_adds_the_current_span_while_active() -> None:
    assert snapshot.active_today(snap(), NOW) == 3600 + 30 * 60
    idle = snap(current={"app": "Firefox", "state": "idle", "since": "2026-11-27T20:00:00+01:00"})
    assert snapshot.active_today(idle, NOW) == 3600
    # the day the daemon described is over: only the current span's part in the new day
    late = NOW.replace(day=28, hour=3, minute=10)  # 04:10 in Berlin
    assert snapshot.active_today(snap(), late) == 600


def test_waybar_is_json_with_text_tooltip_class_percentage() -> None:
    out = json.loads(status_fast.render("waybar", snap(limit_s=3 * 3600), NOW))
    assert out["text"] == "1h 30m"
    assert out["class"] == "recording"
    assert out["percentage"] == 50
    assert "now: Firefox (active) since 20:00, 30m 00s" in out["tooltip"]
    assert "today: 1h 30m active of a 3h 00m limit" in out["tooltip"]


@pytest.mark.parametrize(
    ("over", "cls"),
    [
        ({"paused": {"reason": "lunch", "until": None}}, "paused"),
        (
            {"rule": {"name": "evening", "kind": "tech-free", "ends": "2026-11-28T07:00:00+01:00"}},
            "tech-free",
        ),
        (
            {
                "next": {
                    "name": "evening",
                    "kind": "tech-free",
                    "starts": "2026-11-27T20:35:00+01:00",
                    "warn_s": 600,
                }
            },
            "warning",
        ),
        ({"limit_s": 5700}, "warning"),  # 95 % of the limit used
        (
            {"current": {"app": None, "state": "locked", "since": "2026-11-27T20:00:00+01:00"}},
            "idle",
        ),
    ],
)
def test_waybar_class(over: dict[str, Any], cls: str) -> None:
    assert json.loads(status_fast.render("waybar", snap(**over), NOW))["class"] == cls


def test_text_names_the_window_in_force_and_the_next() -> None:
    rule = {"name": "evening", "kind": "tech-free", "ends": "2026-11-28T07:00:00+01:00"}
    upcoming = {
        "name": "night",
        "kind": "device-free",
        "starts": "2026-11-27T23:00:00+01:00",
        "warn_s": 60,
    }
    assert status_fast.bar_text(snap(rule=rule), NOW) == "1h 30m · evening until Sat 07:00"
    assert status_fast.bar_text(snap(next=upcoming), NOW) == "1h 30m · night in 2h 30m"
    text = status_fast.render("text", snap(rule=rule, next=upcoming), NOW)
    assert "in force: evening (tech-free) until Sat 07:00" in text
    assert "next: night (device-free) at 23:00, in 2h 30m" in text


def test_i3blocks_and_polybar_lines() -> None:
    rule = {"name": "evening", "kind": "tech-free", "ends": "2026-11-27T22:00:00+01:00"}
    full, short, colour = status_fast.render("i3blocks", snap(rule=rule), NOW).split("\n")
    assert (full, short, colour) == ("1h 30m · evening until 22:00", "1h 30m", "#e5a50a")
    assert status_fast.render("i3blocks", snap(), NOW, follow=True) == "1h 30m"  # persist mode
    assert status_fast.render("polybar", snap(), NOW) == "1h 30m"
    assert status_fast.render("polybar", None, NOW) == "presence off"


def test_runtime_dir_is_the_settings_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert status_fast.runtime_dir() == Paths.resolve().runtime_dir
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("PRESENCE_DATA_DIR", str(tmp_path / "data"))
    assert status_fast.runtime_dir() == Paths.resolve().runtime_dir


@pytest.fixture
def run_dir(tmp_path: Path) -> Iterator[Path]:
    """A runtime dir whose session lock this process holds, as the daemon would."""
    fd = os.open(tmp_path / "daemon.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, f"{os.getpid()}\n".encode())
    yield tmp_path
    os.close(fd)


def test_a_snapshot_without_its_daemon_is_not_believed(tmp_path: Path) -> None:
    snapshot.write(snapshot.snapshot_file(tmp_path), snap())  # left by a killed daemon
    assert status_fast.live(tmp_path) is None


def test_follow_prints_a_line_per_change(run_dir: Path) -> None:
    path = snapshot.snapshot_file(run_dir)
    assert snapshot.write(path, snap())
    assert path.stat().st_mode & 0o777 == 0o600
    printed: list[str] = []
    looks = iter(range(6))

    def stop() -> bool:
        look = next(looks, None)
        if look == 3:  # the focus moved
            snapshot.write(
                path,
                snap(
                    current={"app": "foot", "state": "active", "since": "2026-11-27T20:29:00+01:00"}
                ),
            )
        if look == 5:
            snapshot.remove(path)
        return look is None

    status_fast.follow("waybar", run_dir, printed.append, every=0, stop=stop, now=lambda: NOW)
    assert len(printed) == 3  # unchanged looks print nothing
    assert "now: Firefox" in json.loads(printed[0])["tooltip"]
    assert "now: foot" in json.loads(printed[1])["tooltip"]
    assert json.loads(printed[2])["class"] == "stopped"


def test_windows_in_force_and_next() -> None:
    evening = parse_rule(
        "evening", "tech-free", {"days": "daily", "start": "20:00", "end": "23:00"}
    )
    night = parse_rule(
        "night",
        "device-free",
        {"days": "daily", "start": "23:30", "end": "06:00", "devices": "laptop"},
    )
    rule, upcoming = windows([evening, night], "laptop", BERLIN, NOW)
    assert rule == {"name": "evening", "kind": "tech-free", "ends": "2026-11-27T23:00:00+01:00"}
    assert upcoming is not None
    assert (upcoming["name"], upcoming["starts"]) == ("night", "2026-11-27T23:30:00+01:00")
    limit = parse_rule("games", "limit", {"per_day": "2h", "apps": "steam"})
    assert smallest_limit([evening, limit], "laptop") == 7200


def test_active_seconds_clip_to_the_day(private_home: Path) -> None:
    store = Store.open(database_url(Settings(), Paths.resolve()))
    device = store.device("laptop", "h", NOW)
    lo = datetime(2026, 11, 27, 3, tzinfo=UTC)
    spans = [
        Span(lo - timedelta(minutes=10), lo + timedelta(minutes=10), "a", None, SpanState.ACTIVE),
        Span(lo + timedelta(minutes=10), lo + timedelta(minutes=20), "a", None, SpanState.IDLE),
        Span(lo + timedelta(minutes=20), lo + timedelta(minutes=30), "b", None, SpanState.ACTIVE),
    ]
    store.save_spans(device.id, None, spans)
    totals = Totals.of(store)
    assert totals.active_seconds(device.id, lo, lo + timedelta(hours=1)) == 1200
    assert totals.active_seconds(device.id, lo, lo + timedelta(minutes=25)) == 900
    assert totals.active_seconds(device.id + 1, lo, lo + timedelta(hours=1)) == 0


_main = run_presence


def test_bar_formats_without_a_daemon_both_paths(
    private_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--debug` takes the full Typer command; without it the fast path answers
    for args in (("status",), ("--debug", "status")):
        code, out, _ = _main(capsys, monkeypatch, *args, "--format", "waybar")
        assert code == 0
        assert json.loads(out) == {
            "text": "presence off",
            "tooltip": "presence is not running.",
            "class": "stopped",
        }
    monkeypatch.delenv("PRESENCE_DEBUG", raising=False)  # set by --debug
    code, _, err = _main(capsys, monkeypatch, "status", "--format", "nope")
    assert code == ExitCode.INPUT and "unknown --format 'nope'" in err


def test_enforcement_lines_as_the_full_command_says_them() -> None:
    from presence.health import enforcement  # noqa: PLC0415 - loads the store

    assert status_fast.ACTIONS == enforcement.ACTIONS
    backends = {"notify": "dbus", "lock": None, "apps": "x11"}
    assert status_fast.describe(backends) == enforcement.describe(backends)
    failed = [{"at": "2026-11-27T19:00:00+01:00", "rule": "evening", "action": "lock",
               "reason": "no locker"}]  # fmt: skip
    text = status_fast.render("text", snap(capabilities=backends, failed_actions=failed), NOW)
    assert f"enforcement: {enforcement.describe(backends)}" in text
    assert "failed Fri 19:00: evening (lock): no locker" in text
    data = json.loads(status_fast.render("json", snap(failed_actions=failed), NOW))
    assert data["enforcement"]["failed_actions"] == failed and data["spans_waiting"] == 0


def test_a_household_spool_leaves_text_to_the_full_command(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run_dir.parent))
    monkeypatch.setenv("PRESENCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(status_fast, "runtime_dir", lambda: run_dir)
    snapshot.write(snapshot.snapshot_file(run_dir), snap())
    assert status_fast.fast_main([]) == 0  # answered from the snapshot
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / status_fast.SPOOL_FILE).write_bytes(b"")
    assert status_fast.fast_main([]) is None  # spans may be waiting: the full command says
    assert status_fast.fast_main(["--format", "waybar"]) == 0  # bars still answer


def test_follow_ends_when_its_parent_is_gone(tmp_path: Path) -> None:
    """A bar that dies without ending its child must not leave `--follow` polling forever."""
    assert status_fast.orphaned(os.getppid())() is False
    lines: list[str] = []
    status_fast.follow("json", tmp_path, lines.append, every=0.01, stop=status_fast.orphaned(-1))
    assert lines == []  # stopped before the first poll: the parent it was told of is not ours
