"""Reports against the anchor: presence and ActivityWatch on the same generated year.

The history is benchmarks/reports.py's year of heavy use (its generator and cache, unchanged).
benchmarks/aw_load.py writes the same spans into ActivityWatch's own storage with aw-core's
datastore API (peewee SQLite; a window bucket and an AFK bucket for one host, in batches), as
its watchers would have recorded them.

ActivityWatch's Python server (aw-server and aw-core from PyPI) cannot share presence's venv:
aw-core pins platformdirs==3.10 where presence needs >= 4. So this benchmark keeps its own venv
in benchmarks/out/aw-venv (made on first use with this interpreter, packages from PyPI), loads
the data with it, and starts `aw-server` from it as a subprocess on a free loopback port with
its XDG directories pointed at the bench folder. It is stopped afterwards.

Then the week, the month and the year (the periods presence's own report chose, from its JSON
output) are timed side by side:
- presence: the real CLI, `python -m presence report ... --format json`, a subprocess each time
  (interpreter start included), peak RSS of the child from wait4;
- ActivityWatch: POST /api/0/query/ with the query its web UI sends for the Activity view
  (aw-webui's `fullDesktopQuery`: window events intersected with not-afk, categorized with the
  web UI's default categories, merged by app and title), timed from the request to the parsed
  answer on the running server (warm: no start-up cost), peak RSS of the server process during
  the request (VmHWM, reset through /proc/PID/clear_refs before each request).
Week and month: median of 5 runs; the year: median of 3. Per-app active time of both is
compared; the figure is the largest relative difference over the apps.

BENCH_AW_DAYS sizes the history (default 365 days).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.reports import LAST_DAY, OUT, history
from benchmarks.reports import VERSION as HISTORY_VERSION

# The newest releases on PyPI, with two pins as in aw-server's own poetry.lock: peewee 3 (under
# peewee 4 aw-core's bucket listing fails: it gets datetimes where it parses strings), and Flask
# before 2.3 (aw-server 0.12.0 sets app.json_encoder, which Flask 2.3 ignores, so a query's
# timedelta answer fails to serialize).
REQUIREMENTS = ["aw-core==0.5.18", "aw-server==0.12.0", "peewee==3.17.0", "flask==2.2.5"]
LOAD_VERSION = 1
HOST = "bench"
RUNS = {"week": 5, "month": 5, "year": 3}
WINDOW_BUCKET = f"aw-watcher-window_{HOST}"
AFK_BUCKET = f"aw-watcher-afk_{HOST}"
LIMIT = 100  # aw-webui's default_limit
# Requests to the loopback server never go through a proxy from the environment.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# aw-webui's defaultCategories (src/util/classes.ts) as classes_for_query sends them: the
# "Uncategorized" entry has no rule type and is left out.
CATEGORIES: list[tuple[list[str], dict[str, Any]]] = [
    (["Work"], {"type": "regex", "regex": "Google Docs|libreoffice|ReText"}),
    (
        ["Work", "Programming"],
        {
            "type": "regex",
            "regex": "GitHub|Stack Overflow|BitBucket|Gitlab|vim|Spyder|kate|Ghidra|Scite",
        },
    ),
    (
        ["Work", "Programming", "ActivityWatch"],
        {"type": "regex", "regex": "ActivityWatch|aw-", "ignore_case": True},
    ),
    (["Work", "Image"], {"type": "regex", "regex": "GIMP|Inkscape"}),
    (["Work", "Video"], {"type": "regex", "regex": "Kdenlive"}),
    (["Work", "Audio"], {"type": "regex", "regex": "Audacity"}),
    (["Work", "3D"], {"type": "regex", "regex": "Blender"}),
    (["Media"], {"type": "none"}),
    (["Media", "Games"], {"type": "regex", "regex": "Minecraft|RimWorld"}),
    (["Media", "Video"], {"type": "regex", "regex": "YouTube|Plex|VLC"}),
    (
        ["Media", "Social Media"],
        {
            "type": "regex",
            "regex": "reddit|Facebook|Twitter|Instagram|devRant",
            "ignore_case": True,
        },
    ),
    (["Media", "Music"], {"type": "regex", "regex": "Spotify|Deezer", "ignore_case": True}),
    (["Comms"], {"type": "none"}),
    (
        ["Comms", "IM"],
        {
            "type": "regex",
            "regex": "Messenger|Telegram|Signal|WhatsApp|Rambox|Slack|Riot|Element|Discord|"
            "Nheko|NeoChat|Mattermost",
        },
    ),
    (["Comms", "Email"], {"type": "regex", "regex": "Gmail|Thunderbird|mutt|alpine"}),
]


def desktop_query() -> list[str]:
    """aw-webui's fullDesktopQuery (src/queries.ts) for one host, as the Activity view sends it.

    Settings are the web UI's defaults: AFK filtering on, no always-active pattern, no category
    filter, no stopwatch; there are no browser buckets (no browser extension), so the browser
    part runs on an empty list, as it does in the web UI then.
    """
    categories = json.dumps(CATEGORIES)
    return [
        f'events = flood(query_bucket("{WINDOW_BUCKET}"));',
        f'not_afk = flood(query_bucket("{AFK_BUCKET}"));',
        'not_afk = filter_keyvals(not_afk, "status", ["not-afk"]);',
        "browser_events = [];",
        "events = filter_period_intersect(events, not_afk);",
        "stopwatch_events = [];",
        f"events = categorize(events, {categories});",
        'title_events = sort_by_duration(merge_events_by_keys(events, ["app", "title"]));',
        'app_events = sort_by_duration(merge_events_by_keys(title_events, ["app"]));',
        'cat_events = sort_by_duration(merge_events_by_keys(events, ["$category"]));',
        f"app_events = limit_events(app_events, {LIMIT});",
        f"title_events = limit_events(title_events, {LIMIT});",
        "duration = sum_durations(events);",
        "browser_events = split_url_events(browser_events);",
        'browser_urls = merge_events_by_keys(browser_events, ["url"]);',
        "browser_urls = sort_by_duration(browser_urls);",
        f"browser_urls = limit_events(browser_urls, {LIMIT});",
        'browser_domains = merge_events_by_keys(browser_events, ["$domain"]);',
        "browser_domains = sort_by_duration(browser_domains);",
        f"browser_domains = limit_events(browser_domains, {LIMIT});",
        'browser_titles = merge_events_by_keys(browser_events, ["title"]);',
        "browser_titles = sort_by_duration(browser_titles);",
        f"browser_titles = limit_events(browser_titles, {LIMIT});",
        "browser_duration = sum_durations(browser_events);",
        'stopwatch_events = merge_events_by_keys(stopwatch_events, ["label"]);',
        "stopwatch_events = sort_by_duration(stopwatch_events);",
        f"stopwatch_events = limit_events(stopwatch_events, {LIMIT});",
        'RETURN = {"window": {"app_events": app_events, "title_events": title_events,'
        ' "cat_events": cat_events, "active_events": not_afk, "duration": duration},'
        ' "browser": {"domains": browser_domains, "urls": browser_urls,'
        ' "titles": browser_titles, "duration": browser_duration},'
        ' "stopwatch": {"stopwatch_events": stopwatch_events}};',
    ]


def _aw_python() -> Path:
    """The ActivityWatch venv's interpreter, made and filled on first use."""
    venv = OUT / "aw-venv"
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    wanted = " ".join(REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    OUT.mkdir(exist_ok=True)
    print(f"   installing {wanted} into {venv}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *REQUIREMENTS],
        check=True,
    )
    stamp.write_text(wanted)
    return python


def _aw_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "AW_PROFILE"}
    for name in ("DATA", "CONFIG", "CACHE", "STATE"):
        env[f"XDG_{name}_HOME"] = str(home / name.lower())
    return env


def _aw_storage(python: Path, db: Path, days: int) -> tuple[Path, dict[str, float]]:
    """ActivityWatch's data folder holding the history of `db` (loaded on first use)."""
    home = OUT / f"aw-v{LOAD_VERSION}-h{HISTORY_VERSION}-{days}d"
    marker = home / "loaded.json"
    if not marker.exists():
        loader = Path(__file__).with_name("aw_load.py")
        done = subprocess.run(
            [str(python), str(loader), str(db), HOST],
            env=_aw_env(home),
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"loading ActivityWatch's storage failed: {done.stderr[-2000:]}")
        counts = json.loads(done.stdout.strip().splitlines()[-1])
        marker.write_text(json.dumps(counts))
        print(
            f"   loaded into ActivityWatch: {counts['window_events']:.0f} window and "
            f"{counts['afk_events']:.0f} AFK events in {counts['seconds']:.0f} s"
        )
    loaded: dict[str, float] = json.loads(marker.read_text())
    return home, loaded


class AWServer:
    """aw-server from the bench venv on a free loopback port; a context manager."""

    def __init__(self, python: Path, home: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api/0"
        self.log = (home / "server.log").open("w")
        self.process = subprocess.Popen(
            [str(python.parent / "aw-server"), "--host", "127.0.0.1", "--port", str(self.port)],
            env=_aw_env(home),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def __enter__(self) -> AWServer:
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"aw-server exited with {self.process.returncode}")
            try:
                with _LOOPBACK.open(f"{self.url}/info", timeout=2):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def _hwm_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024

    def query(self, start: str, end: str) -> tuple[float, float, dict[str, Any]]:
        """Wall seconds, the server's peak RSS (MB) during it, and the answer of one query."""
        # "5" resets the peak RSS to the current RSS (Linux proc(5)), so the peak is this one's.
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        body = json.dumps({"timeperiods": [f"{start}/{end}"], "query": desktop_query()})
        request = urllib.request.Request(
            f"{self.url}/query/?name=fullDesktopQuery",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        started = time.perf_counter()
        with _LOOPBACK.open(request, timeout=3600) as response:
            answer = json.loads(response.read())
        wall = time.perf_counter() - started
        return wall, self._hwm_mb(), answer[0]


def _presence(args: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds, peak RSS (MB) and JSON output of one `presence report` run."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "presence", *args, "--format", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
        )
        out = process.stdout.read()  # type: ignore[union-attr]
        process.stdout.close()  # type: ignore[union-attr]
        # wait4 rather than wait(): it also gives the child's peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if status != 0:
            err.seek(0)
            raise RuntimeError(f"presence {' '.join(args)} failed: {err.read()!r}")
    return wall, usage.ru_maxrss / 1024, json.loads(out)


def _median(
    runs: int, once: Callable[[], tuple[float, float, dict[str, Any]]]
) -> tuple[float, float, dict[str, Any]]:
    results = [once() for _ in range(runs)]
    return (
        statistics.median(r[0] for r in results),
        max(r[1] for r in results),
        results[-1][2],
    )


def compare(presence: dict[str, Any], aw: dict[str, Any]) -> tuple[float, float]:
    """Largest relative difference of per-app active time, and of the total (fractions)."""
    ours = {a["app"]: a["active_seconds"] for a in presence["apps"] if a["active_seconds"] > 0}
    theirs = {e["data"]["app"]: e["duration"] for e in aw["window"]["app_events"]}
    worst = max(
        abs(ours.get(app, 0.0) - theirs.get(app, 0.0)) / max(ours.get(app, 0.0), 1e-9)
        for app in ours.keys() | theirs.keys()
    )
    total = abs(sum(ours.values()) - aw["window"]["duration"]) / sum(ours.values())
    return worst, total


def run() -> dict[str, float]:
    days = int(os.environ.get("BENCH_AW_DAYS", "365"))
    python = _aw_python()
    db, spans = history(days)
    home, loaded = _aw_storage(python, db, days)
    config = OUT / f"activitywatch-config-{days}d.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[device]\nname = "{HOST}"\n'
        '[reports]\ntimezone = "Europe/Berlin"\n'
    )
    env = {**os.environ, "PRESENCE_CONFIG": str(config)}
    last = LAST_DAY.isoformat()
    reports = {
        "week": ["report", "--week", "--date", last],
        "month": ["report", "--month", "--date", last],
        "year": ["report", "--from", (LAST_DAY - timedelta(days=364)).isoformat(), "--to", last],
    }
    figures: dict[str, float] = {
        "days": days,
        "spans": spans,
        "aw_window_events": loaded["window_events"],
        "aw_afk_events": loaded["afk_events"],
        "aw_load_s": loaded["seconds"],
    }
    print(
        f"activitywatch: {days} days of history, {spans} presence spans; ActivityWatch "
        f"{loaded['window_events']:.0f} window + {loaded['afk_events']:.0f} AFK events"
    )
    with AWServer(python, home) as server:
        for name, args in reports.items():
            runs = RUNS[name]
            p_wall, p_rss, p_out = _median(runs, partial(_presence, args, env))
            period = p_out["period"]
            a_wall, a_rss, a_out = _median(
                runs, partial(server.query, period["start"], period["end"])
            )
            worst, total = compare(p_out, a_out)
            figures |= {
                f"presence_{name}_s": p_wall,
                f"presence_{name}_rss_mb": p_rss,
                f"aw_{name}_s": a_wall,
                f"aw_{name}_rss_mb": a_rss,
                f"{name}_app_max_rel_diff": worst,
                f"{name}_total_rel_diff": total,
            }
            print(
                f"{name} ({period['start']} .. {period['end']}, median of {runs}): "
                f"presence {p_wall:.2f} s, {p_rss:.0f} MB | ActivityWatch {a_wall:.2f} s, "
                f"server peak {a_rss:.0f} MB | per-app active time differs by at most "
                f"{worst * 100:.5f} % (total {total * 100:.5f} %)"
            )
    return figures


if __name__ == "__main__":
    run()
