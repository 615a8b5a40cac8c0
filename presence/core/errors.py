"""Error types: one base class with a hint and an exit code, turned into a message in cli.main()."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit statuses of the `presence` command (documented in docs/cli.md)."""

    OK = 0
    ERROR = 1  # an unexpected failure (a bug: please report it)
    USAGE = 2  # bad command-line usage (Typer's own convention)
    CONFIG = 3  # the settings file is invalid
    STORAGE = 4  # the database cannot be opened, migrated or written
    BACKEND = 5  # a platform capability is unavailable
    # 6 is retired, never reused: no command needs a running daemon (pause, snooze and
    # override go through the database, which the daemon reads), so nothing raised it.
    INPUT = 7  # a value given on the command line is invalid
    ALREADY_RUNNING = 8  # another daemon holds this session's lock
    INTERRUPTED = 130


class PresenceError(Exception):
    """Base of every error presence reports to a user.

    `message` says what was wrong and where; `hint` says what to do about it.
    """

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(PresenceError):
    """The settings file (or an override) is invalid."""

    exit_code = ExitCode.CONFIG


class StorageError(PresenceError):
    """The database cannot be opened, migrated, read or written."""

    exit_code = ExitCode.STORAGE


class BackendError(PresenceError):
    """A platform backend failed or is unavailable."""

    exit_code = ExitCode.BACKEND


class ServiceError(PresenceError):
    """The user's service manager (systemctl, journalctl) failed or is unavailable."""

    exit_code = ExitCode.BACKEND


class InputError(PresenceError):
    """A value given on the command line is invalid."""

    exit_code = ExitCode.INPUT


class AlreadyRunningError(PresenceError):
    """Another daemon already records this user session."""

    exit_code = ExitCode.ALREADY_RUNNING
