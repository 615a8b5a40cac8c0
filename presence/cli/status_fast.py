"""`presence status` from the daemon's snapshot file: no settings, no database, no Typer.

A status bar runs `presence status` every few seconds, or keeps `presence status --follow`
running all day; both read only the snapshot the daemon keeps current
(presence.health.snapshot), so they cost a file read. `presence.cli.main` calls `fast_main`
before loading Typer; it returns None for what it cannot answer from the snapshot (the daemon
is not running and the output is for a terminal, a failure to describe, an option it does not
know), and the full command answers instead.

Formats: `text` (the terminal), `json`, `waybar` (a JSON object: text, tooltip, class,
percentage), `i3blocks` (full text, short text, colour lines; one full text line per change
with --follow, for persist mode), `polybar` (one plain line).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from presence.core.duration import format_duration
from presence.daemon.session_lock import lock_holder
from presence.health import snapshot

FORMATS = ("text", "json", "waybar", "i3blocks", "polybar")
BARS = ("waybar", "i3blocks", "polybar")
FOLLOW_EVERY = 1.0
"""Seconds between two reads of the snapshot with --follow (the daemon writes at most once a
second; a read costs a stat and, when it changed, a small JSON parse)."""

ENFORCEMENT_FILE = "enforcement.json"  # presence.health.enforcement (which loads the store)
SPOOL_FILE = "spool.db"  # presence.store.spool: a household's offline spool (issue 12)
ACTIONS = {
    "notify": "show notifications",
    "lock": "lock the screen",
    "apps": "close or pause apps",
}
"""As presence.health.enforcement.ACTIONS (a unit test keeps the two equal)."""

COLOURS = {"tech-free": "#e5a50a", "warning": "#e5a50a", "paused": "#9a9996", "idle": "#9a9996"}


def runtime_dir() -> Path:
    """The runtime directory, as presence.settings.files.Paths.resolve finds it (a unit test
    keeps the two equal), without importing the settings."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "presence"
    data = os.environ.get("PRESENCE_DATA_DIR")
    if not data:
        import platformdirs  # noqa: PLC0415 - only without XDG_RUNTIME_DIR

        data = platformdirs.user_data_dir("presence")
    return Path(data).expanduser() / "run"


def data_dir() -> Path:
    """The data directory, as Paths.resolve finds it."""
    data = os.environ.get("PRESENCE_DATA_DIR")
    if not data:
        import platformdirs  # noqa: PLC0415

        data = platformdirs.user_data_dir("presence")
    return Path(data).expanduser()


def capabilities(run_dir: Path) -> dict[str, str | None] | None:
    """What the daemon published it can enforce here (issue 10), or None."""
    try:
        data = json.loads((run_dir / ENFORCEMENT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): v if isinstance(v, str) else None for k, v in data.items()}


def describe(backends: dict[str, str | None]) -> str:
    """As presence.health.enforcement.describe."""
    parts = []
    for key, purpose in ACTIONS.items():
        missing = "its log only" if key == "notify" else "no"
        parts.append(f"{purpose}: {backends.get(key) or missing}")
    return "; ".join(parts)


def live(run_dir: Path) -> dict[str, Any] | None:
    """The snapshot of the daemon running now, or None: a file left by a daemon that was
    killed (its lock is gone, or held by another pid) is not believed."""
    data = snapshot.read(snapshot.snapshot_file(run_dir))
    if data is None:
        return None
    holder = lock_holder(run_dir / "daemon.lock")
    return data if holder is not None and holder == data.get("pid") else None


# -- what the snapshot says ------------------------------------------------------------------


def _zone(data: dict[str, Any]) -> tzinfo | None:
    key = data.get("zone")
    if not key:
        return None
    from zoneinfo import ZoneInfo  # noqa: PLC0415 - only when a zone is named

    return ZoneInfo(key)


def _clock(text: str | None, data: dict[str, Any], now: datetime, day: bool = False) -> str:
    """HH:MM in the user's zone; the weekday too when it is not today (or `day`)."""
    when = snapshot.instant(text)
    if when is None:
        return "?"
    zone = _zone(data)
    local = when.astimezone(zone) if zone else when
    same_day = local.date() == (now.astimezone(zone) if zone else now.astimezone()).date()
    return local.strftime("%H:%M" if same_day and not day else "%a %H:%M")


def _left(text: str | None, now: datetime) -> float:
    when = snapshot.instant(text)
    return 0.0 if when is None else max(0.0, (when - now).total_seconds())


def _short(seconds: float) -> str:
    """`2h 05m`, `9m`: minutes are enough for a bar."""
    minutes = int(seconds // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def classes(data: dict[str, Any], now: datetime) -> list[str]:
    """The bar's classes, most important first: paused, tech-free (a window in force),
    warning (within the next window's warnings, or past 90 % of a daily limit), idle."""
    found = []
    if data.get("paused"):
        found.append("paused")
    if data.get("rule"):
        found.append("tech-free")
    upcoming = data.get("next")
    limit = data.get("limit_s")
    warned = upcoming and _left(upcoming.get("starts"), now) <= float(upcoming.get("warn_s") or 0)
    near_limit = limit and snapshot.active_today(data, now) >= 0.9 * float(limit)
    if warned or near_limit:
        found.append("warning")
    current = data.get("current")
    if current and current.get("state") in ("idle", "locked"):
        found.append("idle")
    return found


def percentage(data: dict[str, Any], now: datetime) -> int | None:
    """Today's active time as a share of the smallest daily limit (0-100), or None."""
    limit = data.get("limit_s")
    if not limit:
        return None
    return min(100, round(100 * snapshot.active_today(data, now) / float(limit)))


def bar_text(data: dict[str, Any] | None, now: datetime) -> str:
    """The bar's one line: today's active time, and the window in force or the next one."""
    if data is None:
        return "presence off"
    if data.get("paused"):
        return "paused"
    text = _short(snapshot.active_today(data, now))
    rule, upcoming = data.get("rule"), data.get("next")
    if rule:
        ends = rule.get("ends")
        text += f" · {rule['name']}" + (f" until {_clock(ends, data, now)}" if ends else "")
    elif upcoming and _left(upcoming.get("starts"), now) < 12 * 3600:
        text += f" · {upcoming['name']} in {_short(_left(upcoming.get('starts'), now))}"
    return text


def lines(data: dict[str, Any] | None, now: datetime) -> list[str]:
    """The terminal's lines (and the bars' tooltip)."""
    if data is None:
        return ["presence is not running."]
    out = [
        f"presence is recording on {data['device']} (pid {data['pid']})"
        f" since {_clock(data.get('run_started'), data, now)}."
    ]
    paused, current = data.get("paused"), data.get("current")
    if paused:
        until = paused.get("until")
        out.append(
            f"paused: {paused['reason']}"
            + (f", until {_clock(until, data, now)}" if until else ", until `presence resume`")
        )
    elif current:
        what = current["app"] or ("screen locked" if current["state"] == "locked" else "no window")
        since = snapshot.instant(current["since"]) or now
        out.append(
            f"now: {what} ({current['state']}) since {_clock(current['since'], data, now)}"
            f", {format_duration((now - since).total_seconds())}"
        )
    today = f"today: {format_duration(snapshot.active_today(data, now))} active"
    if data.get("limit_s"):
        today += f" of a {format_duration(float(data['limit_s']))} limit"
    out.append(today)
    rule, upcoming = data.get("rule"), data.get("next")
    if rule:
        ends = rule.get("ends")
        out.append(
            f"in force: {rule['name']} ({rule['kind']})"
            + (f" until {_clock(ends, data, now)}" if ends else "")
        )
    if upcoming:
        out.append(
            f"next: {upcoming['name']} ({upcoming['kind']}) at"
            f" {_clock(upcoming['starts'], data, now)}"
            f", in {format_duration(_left(upcoming['starts'], now))}"
        )
    if data.get("offline"):
        out.append("offline: the database is unreachable; spans are held until it is back")
    if data.get("capabilities") is not None:
        out.append(f"enforcement: {describe(data['capabilities'])}")
    for item in data.get("failed_actions") or []:
        out.append(
            f"failed {_clock(item['at'], data, now, day=True)}: {item['rule']} "
            f"({item['action']}): {item['reason']}"
        )
    return out


def as_json(data: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    """`status --format json` from the snapshot: the keys of the full command's JSON (but
    `current.last_seen`) and the snapshot's own."""
    if data is None:
        return {"running": False}
    return {
        "device": data["device"],
        "running": True,
        "pid": data["pid"],
        "since": data.get("run_started"),
        "paused": data.get("paused"),
        "current": data.get("current"),
        "today_active_s": round(snapshot.active_today(data, now), 3),
        "limit_s": data.get("limit_s"),
        "rule": data.get("rule"),
        "next": data.get("next"),
        "offline": bool(data.get("offline")),
        "faults": data.get("faults") or [],
        "spans_waiting": 0,  # a household's offline spool: the full command says (fast_main)
        "offline_since": None,
        "enforcement": {
            "capabilities": data.get("capabilities"),
            "failed_actions": data.get("failed_actions") or [],
        },
    }


def render(fmt: str, data: dict[str, Any] | None, now: datetime, follow: bool = False) -> str:
    """The output of one look, without its final newline."""
    if fmt == "json":
        return json.dumps(as_json(data, now), ensure_ascii=False, indent=None if follow else 2)
    if fmt == "waybar":
        found = classes(data, now) if data is not None else ["stopped"]
        out: dict[str, Any] = {
            "text": bar_text(data, now),
            "tooltip": "\n".join(lines(data, now)),
            "class": found[0] if found else "recording",
        }
        share = None if data is None else percentage(data, now)
        if share is not None:
            out["percentage"] = share
        return json.dumps(out, ensure_ascii=False)
    if fmt == "i3blocks":
        text = bar_text(data, now)
        if follow:  # persist mode: each line is the new full text
            return text
        found = classes(data, now) if data is not None else []
        colour = COLOURS.get(found[0], "") if found else ""
        return "\n".join([text, text.split(" · ")[0], colour])
    if fmt == "polybar":
        return bar_text(data, now)
    return "\n".join(lines(data, now))


def orphaned(parent: int) -> Callable[[], bool]:
    """A `stop` for `follow`: true once the process that started us is gone.

    A bar that dies or restarts without ending its child (waybar 0.9 runs `exec` in its own
    process group and leaves it on SIGTERM) would otherwise leave the follower polling until a
    change makes its write fail, which may be never."""
    return lambda: os.getppid() != parent


def follow(
    fmt: str,
    run_dir: Path,
    write: Callable[[str], None],
    *,
    every: float = FOLLOW_EVERY,
    stop: Callable[[], bool] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Print a line whenever what `fmt` shows changes; until `stop()` (default: the parent
    process is gone, see `orphaned`) or a closed pipe."""
    stop = stop or orphaned(os.getppid())
    last = None
    while not stop():
        text = render(fmt, live(run_dir), now(), follow=True)
        if fmt == "text":
            text = " | ".join(text.splitlines())
        if text != last:
            last = text
            write(text + "\n")
        time.sleep(every)


def _parse(args: Sequence[str]) -> tuple[str, bool] | None:
    """(format, follow) from `status`'s options, or None for anything else."""
    fmt, following = "text", False
    words = list(args)
    while words:
        word = words.pop(0)
        if word == "--json":
            fmt = "json"
        elif word == "--follow":
            following = True
        elif word == "--format" and words:
            fmt = words.pop(0)
        elif word.startswith("--format="):
            fmt = word.split("=", 1)[1]
        else:
            return None
    return (fmt, following) if fmt in FORMATS else None


def fast_main(args: Sequence[str]) -> int | None:
    """`presence status ARGS` from the snapshot; None when the full command must answer."""
    parsed = _parse(args)
    if parsed is None:
        return None
    fmt, following = parsed
    run_dir = runtime_dir()
    if following:

        def write(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()

        try:
            follow(fmt, run_dir, write)
        except (KeyboardInterrupt, BrokenPipeError):
            # a bar that goes away closes the pipe: end quietly (stdout is gone)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    data = live(run_dir)
    if fmt in ("text", "json"):
        failing = data is not None and any(f.get("failing") for f in data.get("faults") or [])
        spooling = (data_dir() / SPOOL_FILE).exists()
        if data is None or failing or spooling:
            # the full command says when it last recorded, what fails, what waits
            return None
        data = {**data, "capabilities": capabilities(run_dir)}
    sys.stdout.write(render(fmt, data, datetime.now(UTC)) + "\n")
    return 0
