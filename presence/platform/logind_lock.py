"""Screen lock state from systemd-logind (or elogind): the LockedHint of the user's session."""

from __future__ import annotations

from collections.abc import Mapping

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.dbus import (
    CONNECT_TIMEOUT,
    UNKNOWN_OBJECT,
    UNKNOWN_PROPERTY,
    BusConnection,
    DBusCallError,
    RemoteObject,
    connect,
    probe_bus,
    system_bus_address,
    unless_unanswered,
)

LOGIN1 = "org.freedesktop.login1"
# "auto" is the caller's session, or, for a caller outside any session (a systemd user
# service, which is how presence runs), the user's display session (systemd v243,
# "logind: make 'self' and 'auto' magic strings"); "self" would fail for a user service.
SESSION_AUTO = RemoteObject(
    LOGIN1, "/org/freedesktop/login1/session/auto", "org.freedesktop.login1.Session"
)
LOCKED_TIMEOUT = 0.1  # the LockState contract: locked() returns within 100 ms

NO_SYSTEM_BUS_HINT = (
    "start the system bus (`systemctl start dbus`), or set DBUS_SYSTEM_BUS_ADDRESS to its "
    "address; in a container, bind-mount /run/dbus/system_bus_socket"
)
# logind answers these when no session belongs to the caller and the user has no display session
_NO_SESSION = frozenset(
    {
        UNKNOWN_OBJECT,
        "org.freedesktop.login1.NoSessionForPID",
        "org.freedesktop.login1.NoSuchSession",
    }
)


class LogindLockState:
    """Whether the session is locked, from logind's `LockedHint` on the system bus.

    The desktop's screen locker sets the hint (GNOME, KDE and most lockers that integrate
    with logind do; a bare `i3lock` does not, and then the hint stays false).

    Thread contract: built and closed on the daemon's main thread; `locked()` on the sampler
    thread only.
    """

    name = "logind"

    @classmethod
    def probe(cls, session: Session, env: Mapping[str, str] | None = None) -> Probe:
        """Whether a system bus socket exists (DBUS_SYSTEM_BUS_ADDRESS from `env`, default
        os.environ). Does not connect; side-effect free."""
        return probe_bus(system_bus_address(env), bus="system D-Bus", hint=NO_SYSTEM_BUS_HINT)

    def __init__(
        self,
        session: Session,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = LOCKED_TIMEOUT,
    ) -> None:
        """Connect to the system bus and check that logind knows this user's session.

        `env` (default os.environ) supplies DBUS_SYSTEM_BUS_ADDRESS; `timeout` bounds each
        `locked()` call. Raises BackendError when the bus, logind or the session is missing.
        """
        self._timeout = timeout
        self._bus: BusConnection = connect(system_bus_address(env), bus="system D-Bus")
        try:
            self._check()
        except BackendError:
            self._bus.close()
            raise

    def _check(self) -> None:
        if not self._bus.name_has_owner(LOGIN1, timeout=CONNECT_TIMEOUT):
            raise BackendError(
                f"systemd-logind is not running ({LOGIN1} has no owner on the system D-Bus)",
                hint="run a systemd (or elogind) system, or choose the screensaver lock backend",
            )
        try:
            self._bus.get_property(
                SESSION_AUTO, "LockedHint", signature="b", timeout=CONNECT_TIMEOUT
            )
        except DBusCallError as exc:
            if exc.error_name in _NO_SESSION:
                raise BackendError(
                    "not running inside a logind session: logind knows no session for this "
                    f"process or its user ({exc.message})",
                    hint="run presence from your graphical login (its systemd user service "
                    "counts), not from a cron job, ssh or a container",
                ) from exc
            if exc.error_name == UNKNOWN_PROPERTY:
                raise BackendError(
                    "logind has no LockedHint property (it needs systemd 230 or later)",
                    hint="upgrade systemd, or choose the screensaver lock backend",
                ) from exc
            raise

    def locked(self) -> bool | None:
        """The session's LockedHint. Sampler thread only; returns within `timeout` (100 ms).

        Returns None when logind does not answer in time or is restarting (its name has no
        owner). Raises BackendError when the system bus connection is gone, or when logind
        answers with an error that will not go away (the session ended, access denied).
        """
        value = unless_unanswered(
            lambda: self._bus.get_property(
                SESSION_AUTO, "LockedHint", signature="b", timeout=self._timeout
            )
        )
        return None if value is None else bool(value)

    def close(self) -> None:
        """Close the bus connection. Idempotent; main thread, after the sampler stopped."""
        self._bus.close()
