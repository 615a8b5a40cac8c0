"""The block page's override (issue 14): the host calls the CLI's `override`, so it costs
exactly what `presence override --reason` costs: a reason, once per occurrence, the rule set's
overrides a week, none for a strict rule; the daemon applies it and the site is unblocked."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from presence.install.browser_host import Host, read_message
from presence.settings.files import Paths
from presence.settings.schema import DatabaseSettings, DeviceSettings, Settings
from tests.unit.test_enforcer import Rig

WINDOW = {"days": "daily", "warn": "none", "grace": "0s", "sites": "youtube.com"}


def _host(rig: Rig, tmp_path: Path) -> tuple[Host, io.BytesIO]:
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{rig.path}"),
        device=DeviceSettings(name="laptop"),
    )
    paths = Paths(tmp_path / "config.toml", tmp_path / "data", tmp_path / "run")
    out = io.BytesIO()
    return Host(out, "chromium", paths, settings, rig.clock), out


def _said(out: io.BytesIO, start: int) -> list[dict[str, Any]]:
    stream = io.BytesIO(out.getvalue()[start:])
    found = []
    while (message := read_message(stream)) is not None:
        found.append(message)
    return found


def _ask(rig: Rig, host: Host, out: io.BytesIO, kind: str, rule: str, reason: str) -> list[Any]:
    start = len(out.getvalue())
    rig.clock.advance(1)  # the user takes a moment to ask
    host.handle({"type": kind, "id": 7, "rule": rule, "reason": reason})
    return _said(out, start)


def test_the_block_page_overrides_at_the_clis_cost(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "2026-01-15 09:59")
    for name in ("deep", "deeper", "deepest"):
        rig.add("focus", name, start="10:00", end="12:00", **WINDOW)
    rig.add("focus", "iron", start="10:00", end="12:00", strict="true", **WINDOW)
    rig.run("2026-01-15 10:00:03")
    host, out = _host(rig, tmp_path)
    host._push_blocked()
    assert {r["rule"] for r in _said(out, 0)[-1]["rules"]} == {"deep", "deeper", "deepest", "iron"}

    # no reason: refused with the CLI's words, nothing logged
    (answer,) = _ask(rig, host, out, "override", "deep", "  ")
    assert answer["type"] == "snooze-result" and not answer["ok"]
    assert "reason is empty" in answer["message"]
    assert "override" not in rig.kinds("deep")

    # with a reason: logged from the browser, and the site is unblocked at once
    blocked, answer = _ask(rig, host, out, "override", "deep", "a call about this video")
    assert answer["ok"] and answer["message"].startswith("Overridden: deep is skipped")
    assert "deep" not in {r["rule"] for r in blocked["rules"]}
    detail = next(d for e, d in rig.events("deep") if e == "override")
    assert detail == {"reason": "a call about this video", "source": "browser"}
    rig.run("2026-01-15 10:00:09")  # the daemon applies it, as one from the CLI
    assert "refused" not in rig.kinds("deep")

    # once per occurrence, two a week (the built-in policy), never for a strict rule
    (answer,) = _ask(rig, host, out, "override", "deep", "again")
    assert not answer["ok"] and "overridden already" in answer["message"]
    (answer,) = _ask(rig, host, out, "override", "iron", "please")
    assert not answer["ok"] and "strict" in answer["message"]
    assert _ask(rig, host, out, "override", "deeper", "second")[-1]["ok"]
    (answer,) = _ask(rig, host, out, "override", "deepest", "third")
    assert not answer["ok"] and "allows 2 a week" in answer["message"]
    assert "override" not in rig.kinds("deepest")
