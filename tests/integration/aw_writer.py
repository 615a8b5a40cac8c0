"""Write an ActivityWatch database with ActivityWatch's own storage code, and total it with
ActivityWatch's own transforms. Runs in the ActivityWatch venv (tests/integration/aw_venv.py):
imports only the standard library and aw-core, never presence.

    python aw_writer.py OUT_DIR

Writes, with XDG_DATA_HOME pointed at OUT_DIR/data, aw-server's peewee database for two hosts
(a window and an AFK bucket each, events as the watchers write them: contiguous, of varying
length, AFK alternating with gaps where the watcher was not running), and OUT_DIR/export.json
in aw-server's export format. Prints one JSON line: the database's path and, per host, the
active and AFK seconds per app as ActivityWatch's Activity view computes them (window events
intersected with not-afk / afk time, merged by app).
"""

from __future__ import annotations

import json
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

APPS = ["firefox", "foot", "Slack", "thunderbird", "code"]


def main() -> None:
    out = Path(sys.argv[1])
    os.environ["XDG_DATA_HOME"] = str(out / "data")
    from aw_core.models import Event  # noqa: PLC0415 - after XDG_DATA_HOME is set
    from aw_datastore import Datastore  # noqa: PLC0415
    from aw_datastore.storages import PeeweeStorage  # noqa: PLC0415
    from aw_transform import (  # noqa: PLC0415
        filter_keyvals,
        filter_period_intersect,
        merge_events_by_keys,
    )

    rng = random.Random(13)
    datastore = Datastore(PeeweeStorage, testing=False)
    created = datetime(2026, 11, 1, tzinfo=UTC)
    result: dict[str, object] = {"hosts": {}}
    export: dict[str, object] = {"buckets": {}}
    for host in ("alpha-host", "beta-host"):
        window = datastore.create_bucket(
            f"aw-watcher-window_{host}", "currentwindow", "aw-watcher-window", host, created
        )
        afk = datastore.create_bucket(
            f"aw-watcher-afk_{host}", "afkstatus", "aw-watcher-afk", host, created
        )
        start = datetime(2026, 11, 20, 7, tzinfo=UTC)
        end = start + timedelta(hours=30)
        windows, afks = [], []
        at = start
        while at < end:
            seconds = rng.uniform(2, 400)
            app = rng.choice(APPS)
            data = {"app": app, "title": f"{app} page {rng.randint(1, 30)}"}
            windows.append(Event(timestamp=at, duration=timedelta(seconds=seconds), data=data))
            at += timedelta(seconds=seconds)
        at = start + timedelta(minutes=3)  # the AFK watcher starts a little later
        while at < end:
            seconds = rng.uniform(60, 2400)
            status = "afk" if rng.random() < 0.35 else "not-afk"
            afks.append(
                Event(timestamp=at, duration=timedelta(seconds=seconds), data={"status": status})
            )
            at += timedelta(seconds=seconds)
            if rng.random() < 0.1:
                at += timedelta(minutes=rng.uniform(5, 90))  # the watcher was not running
        window.insert(windows)
        afk.insert(afks)
        stored_windows = window.get(limit=-1)
        stored_afks = afk.get(limit=-1)
        totals = {}
        for status in ("not-afk", "afk"):
            periods = filter_keyvals(stored_afks, "status", [status])
            merged = merge_events_by_keys(filter_period_intersect(stored_windows, periods), ["app"])
            totals[status] = {e.data["app"]: e.duration.total_seconds() for e in merged}
        result["hosts"][host] = {  # type: ignore[index]
            "active": totals["not-afk"],
            "idle": totals["afk"],
            "window_events": len(stored_windows),
            "afk_events": len(stored_afks),
        }
        for bucket, events in ((window, stored_windows), (afk, stored_afks)):
            meta = bucket.metadata()
            meta["events"] = [e.to_json_dict() for e in events]
            export["buckets"][meta["id"]] = meta  # type: ignore[index]
    (out / "export.json").write_text(json.dumps(export, default=str))
    storage = datastore.storage_strategy
    result["database"] = str(storage.db.database)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
