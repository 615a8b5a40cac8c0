"""Alembic upgrades in a short child process, so that Alembic never stays in the daemon's memory.

`python -m presence.store.migrate` reads a database URL on stdin (not argv: `ps` shows argv to
every user, and the URL may carry a password), upgrades that database to head, and answers on
stdout with one JSON line: `{"ok": true}` or `{"ok": false, "message": ..., "hint": ...}`.
"""

from __future__ import annotations

import json
import subprocess
import sys

from presence.core.errors import PresenceError, StorageError


def upgrade_in_child(url: str) -> None:
    """Upgrade the database at `url` to head in a child Python process; blocks until it ends.

    Raises StorageError with the child's message when the upgrade fails, or when the child
    could not run at all. Any thread.
    """
    try:
        done = subprocess.run(
            [sys.executable, "-m", "presence.store.migrate"],
            input=url,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise StorageError(
            f"cannot start the database migration ({sys.executable}): {exc.strerror or exc}",
            hint="check the presence installation",
        ) from None
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        answer = {}
    if done.returncode == 0 and answer.get("ok") is True:
        return
    if "message" in answer:
        raise StorageError(str(answer["message"]), hint=answer.get("hint"))
    tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
    raise StorageError(
        f"the database migration failed: {tail[0]}",
        hint="run `PRESENCE_DEBUG=1 presence data check` for details",
    )


def main() -> int:
    """The child: upgrade the database named on stdin; one JSON line on stdout."""
    from presence.store import database  # noqa: PLC0415 - after the parent spawned us

    url = sys.stdin.read().strip()
    try:
        engine = database.create(url)
        try:
            database.upgrade(engine)
        finally:
            engine.dispose()
    except PresenceError as exc:
        print(json.dumps({"ok": False, "message": exc.message, "hint": exc.hint}))
        return 1
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
