"""`presence import activitywatch` on a database written by ActivityWatch's own storage code
(aw-core), twice and from its export too; totals compared with ActivityWatch's own transforms
on the same data."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.aw_venv import aw_python

pytestmark = pytest.mark.integration

WRITER = Path(__file__).with_name("aw_writer.py")


def presence(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "presence", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def totals(db: Path, state: str) -> dict[str, dict[str, float]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT d.name, s.app, SUM(s.end_ts - s.start_ts) FROM spans s "
            "JOIN devices d ON d.id = s.device_id WHERE s.state = ? GROUP BY 1, 2",
            (state,),
        ).fetchall()
    found: dict[str, dict[str, float]] = {}
    for host, app, seconds in rows:
        found.setdefault(host, {})[app] = seconds
    return found


def span_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM spans").fetchone()[0])


def test_import_matches_activitywatch_and_is_idempotent(tmp_path: Path) -> None:
    python = aw_python()
    aw_dir = tmp_path / "aw"
    aw_dir.mkdir()
    written = subprocess.run(
        [str(python), str(WRITER), str(aw_dir)], capture_output=True, text=True, check=True
    )
    truth = json.loads(written.stdout)
    aw_db = Path(truth["database"])
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }
    db = tmp_path / "data" / "presence" / "presence.db"

    dry = presence(env, "import", "activitywatch", str(aw_db), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "alpha-host: would import" in dry.stdout and "beta-host: would import" in dry.stdout
    assert not db.exists()

    first = presence(env, "import", "activitywatch", str(aw_db))
    assert first.returncode == 0, first.stderr
    count = span_count(db)
    assert count > 0
    for state, key in (("active", "active"), ("idle", "idle")):
        ours = totals(db, state)
        for host, apps in truth["hosts"].items():
            assert set(ours[host]) == set(apps[key])
            for app, seconds in apps[key].items():
                assert ours[host][app] == pytest.approx(seconds, abs=0.01), (host, app, state)

    before = totals(db, "active")
    again = presence(env, "import", "activitywatch", str(aw_db))
    assert again.returncode == 0 and span_count(db) == count
    exported = presence(env, "import", "activitywatch", str(aw_dir / "export.json"))
    assert exported.returncode == 0 and span_count(db) == count  # the same events, same uids
    after = totals(db, "active")
    assert {h: pytest.approx(a, abs=1e-6) for h, a in before.items()} == after

    for wrong in (db, WRITER):  # presence's own database, and a Python file
        refused = presence(env, "import", "activitywatch", str(wrong))
        assert refused.returncode == 7
        assert "is not an ActivityWatch database or export" in refused.stderr
        assert "Traceback" not in refused.stderr
