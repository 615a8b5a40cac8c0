"""The `presence` command. Commands parse, call one service function and render the result.

Errors: every PresenceError becomes a message, its hint and its exit status here, in main();
`PRESENCE_DEBUG=1` (or `--debug`) shows the traceback instead.

`presence run` takes a lean path (presence.cli.run.daemon_main, argparse): the daemon runs all
day, and Typer (with pydantic), the report, rules and rendering modules would cost it memory
for nothing. `presence status` answers from the daemon's snapshot file when it can
(presence.cli.status_fast): status bars run it every few seconds. `presence today` and
`presence report` (their common options, this device, a SQLite database at the head schema)
are answered by presence.cli.report_fast without Typer, pydantic or SQLAlchemy: the same
report service and renderers, the database read through the standard library's sqlite3
(presence.store.sqlite_reads, the same SQL texts as the full store). Whatever those two fast
paths do not take (other options, help, errors, PostgreSQL, a database to create or migrate)
they hand back, and the Typer app below answers as always.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from presence.core.errors import ExitCode, PresenceError

_VALUED = {"--config", "-c"}


def _command(argv: Sequence[str]) -> str | None:
    """The command word in `argv` (after the global options), or None."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _VALUED:
            skip = True
        elif word.startswith("-"):
            if word in ("--help", "--version"):
                return None
        else:
            return word
    return None


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


def main() -> None:
    """Entry point of the `presence` console script."""
    os.umask(0o077)  # everything presence creates is private to the user
    try:
        if _command(sys.argv[1:]) == "run":
            from presence.cli.run import daemon_main  # noqa: PLC0415 - lean path (see above)

            daemon_main(sys.argv[1:])
            return
        if _command(sys.argv[1:]) == "status" and "--debug" not in sys.argv:
            # Status bars run this every few seconds: answered from the daemon's snapshot
            # without Typer, rich or SQLAlchemy when it can be (issue 13).
            from presence.cli.status_fast import fast_main  # noqa: PLC0415

            answered = fast_main(sys.argv[sys.argv.index("status") + 1 :])
            if answered is not None:
                sys.exit(answered)
        if _command(sys.argv[1:]) in ("today", "report") and "--debug" not in sys.argv:
            # Everyday commands: a SQLite file read through sqlite3, without Typer, pydantic
            # or SQLAlchemy, when the command line is one it takes (issue 13).
            from presence.cli.report_fast import fast_main as report_main  # noqa: PLC0415

            answered = report_main(sys.argv[1:])
            if answered is not None:
                sys.exit(answered)
        from presence.cli.app import app  # noqa: PLC0415

        # Standalone mode: Typer reports usage errors itself (exit 2) and exits via SystemExit.
        app()
    except PresenceError as exc:
        if os.environ.get("PRESENCE_DEBUG") == "1":
            raise
        _say(f"presence: error: {exc.message}")
        if exc.hint:
            _say(f"  hint: {exc.hint}")
        sys.exit(int(exc.exit_code))
    except Exception as exc:
        if os.environ.get("PRESENCE_DEBUG") == "1":
            raise
        _say(
            f"presence: internal error: {type(exc).__name__}: {exc}\n"
            "  hint: run again with PRESENCE_DEBUG=1 for the traceback, and please report it"
        )
        sys.exit(int(ExitCode.ERROR))
