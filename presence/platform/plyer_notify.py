"""Notifications through plyer: the portable fallback when no D-Bus notifier can be built.

What plyer 2.1 does on Linux, and what that costs (read from plyer/platforms/linux/
notification.py): inside Flatpak (an `/app` directory) it calls the notification portal with
`gdbus`; with dbus-python importable it calls org.freedesktop.Notifications through libdbus;
otherwise it warns and runs `notify-send`, and there the `timeout` argument is silently
dropped (notify-send gets plyer's `expire_time`, which defaults to 0: the server's default).
No path offers buttons or replaces an earlier notification, so the "Snooze 5 min" button and
the in-place countdown are lost: each warning is a new notification.

Both libdbus and GLib's GDBus (behind notify-send) autolaunch a session bus with `dbus-launch`
when none is configured and DISPLAY is set. presence never lets that happen: this notifier
is only built when the session has a bus, and each call first checks that its socket still
exists. plyer's call blocks (notify-send is waited for without a timeout), so it runs on a
short-lived thread and `notify()` returns after at most NOTIFY_TIMEOUT seconds regardless.
"""

from __future__ import annotations

import importlib.util
import itertools
import logging
import shutil
import threading
from collections.abc import Callable, Sequence

from plyer import notification

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.dbus import probe_bus

log = logging.getLogger(__name__)

NOTIFY_TIMEOUT = 2.0  # the Notifier contract: notify() returns within 2 s
SHOW_SECONDS = 10  # how long plyer asks a notification to stay (ignored via notify-send)


class PlyerNotifier:
    """Notifications via plyer; no buttons, no in-place updates. Any thread."""

    name = "plyer"
    actions_supported = False

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Whether plyer has something to call, on a session bus that exists. Side-effect free."""
        bus = probe_bus(
            session.session_bus,
            bus="session D-Bus",
            hint="plyer's ways to notify need a session bus, which presence never autolaunches",
        )
        if not bus.ok:
            return bus
        if shutil.which("notify-send") is None and importlib.util.find_spec("dbus") is None:
            return Probe.no(
                "plyer finds neither notify-send nor dbus-python",
                hint="install libnotify-bin (sudo apt-get install libnotify-bin)",
            )
        return Probe.yes()

    def __init__(self, session: Session) -> None:
        """Keep plyer's notification facade (a proxy: plyer picks its way on first use)."""
        self._notification = notification
        self._session = session
        self._ids = itertools.count(1)

    def notify(
        self,
        summary: str,
        body: str,
        *,
        replaces_id: int = 0,
        actions: Sequence[tuple[str, str]] = (),
    ) -> int:
        """Show a notification (a new one each time); returns a local id.

        Raises BackendError when the session bus is gone (rather than let plyer's libraries
        autolaunch one) or plyer raised. Returns within NOTIFY_TIMEOUT s; a call still running
        then is logged and left to finish on its thread.
        """
        still = probe_bus(self._session.session_bus, bus="session D-Bus", hint="")
        if not still.ok:
            raise BackendError(
                f"plyer notifications: {still.reason}", hint="the session bus went away"
            )
        failure: list[BaseException] = []

        def call() -> None:
            try:
                self._notification.notify(
                    title=summary, message=body, app_name="presence", timeout=SHOW_SECONDS
                )
            except Exception as exc:
                failure.append(exc)

        worker = threading.Thread(target=call, name="presence-plyer-notify", daemon=True)
        worker.start()
        worker.join(NOTIFY_TIMEOUT)
        if worker.is_alive():
            log.warning("plyer's notification call is still running after %g s", NOTIFY_TIMEOUT)
        elif failure:
            raise BackendError(
                f"plyer could not notify: {failure[0]}",
                hint="check that a notification server runs in this session",
            )
        return next(self._ids)

    def on_action(self, callback: Callable[[int, str], None]) -> None:
        """plyer has no buttons: the callback is never called."""

    def close(self) -> None:
        """Nothing to release."""
