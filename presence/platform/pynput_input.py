"""Counts of key presses, clicks, scrolls and pointer moves, from pynput's X11 (RECORD) listeners.

pynput is imported lazily: importing it connects to $DISPLAY at import time and raises without
one, and this module must stay importable anywhere (probes, `presence doctor`, unit tests).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from typing import Any

import Xlib.display
import Xlib.error

from presence.core.errors import BackendError
from presence.core.model import InputCounts
from presence.platform.base import Probe, Session
from presence.platform.x11_display import CONNECT_FAILED, probe_display

log = logging.getLogger(__name__)

START_TIMEOUT = 10.0
"""Seconds `start()` waits for both listeners to be recording."""

STOP_TIMEOUT = 2.0
"""Seconds `close()` waits for each listener to stop; a listener still running after that is a
daemon thread and is abandoned rather than allowed to hang shutdown."""


class PynputInputCounter:
    """Cumulative input counts since `start()`, never which key or button.

    The callbacks run in pynput's listener threads and only bump integers under a lock; the
    key or button they are handed is dropped on the spot. `counts()` and
    `seconds_since_input()` may be called from any thread. When a listener dies (the X server
    went away) the counts stop growing and keep their last values.
    """

    name = "pynput"

    @classmethod
    def probe(cls, session: Session) -> Probe:
        """Side-effect free: only looks at the session; the constructor connects."""
        return probe_display(session, capability="input")

    def __init__(self, session: Session) -> None:
        """Check that pynput can record input on the session's display; listen from `start()`.

        Raises BackendError when there is no display, it is not the one pynput would use, it
        lacks the RECORD extension, or pynput cannot be imported.
        """
        display = session.x11_display
        if not display:
            raise BackendError("no X display", hint="run inside an X11 session or set DISPLAY")
        # pynput's Xorg backend always connects to $DISPLAY and takes no display argument;
        # changing os.environ for it would change it for every other thread too.
        if os.environ.get("DISPLAY") != display:
            raise BackendError(
                f"pynput listens on $DISPLAY ({os.environ.get('DISPLAY')!r}), "
                f"not on the session's display {display!r}",
                hint="start presence with DISPLAY set to the session's X display",
            )
        _require_record(display)
        try:
            # Imported here, never at module import: see the module docstring.
            import pynput.keyboard  # noqa: PLC0415
            import pynput.mouse  # noqa: PLC0415
        except (ImportError, *CONNECT_FAILED) as exc:
            raise BackendError(
                f"pynput cannot use the X display {display}: {exc}",
                hint="check that the X server is running and that DISPLAY and XAUTHORITY are right",
            ) from exc
        self._keyboard_module: Any = pynput.keyboard
        self._mouse_module: Any = pynput.mouse
        self._lock = threading.Lock()
        self._keys = 0
        self._clicks = 0
        self._scrolls = 0
        self._moves = 0
        self._last_input: float | None = None
        self._listeners: list[Any] = []
        self._display_name = display

    def start(self) -> None:
        """Start both listeners and wait until they record. Call once, from any thread.

        Raises BackendError when a listener is not recording within START_TIMEOUT seconds.
        """
        if self._listeners:
            return
        keyboard = _quiet(self._keyboard_module.Listener)(on_press=self._on_key)
        mouse = _quiet(self._mouse_module.Listener)(
            on_move=self._on_move, on_click=self._on_click, on_scroll=self._on_scroll
        )
        self._listeners = [keyboard, mouse]
        for listener in self._listeners:
            listener.start()
        deadline = time.monotonic() + START_TIMEOUT
        for listener in self._listeners:
            if not _wait_ready(listener, deadline):
                self.close()
                raise BackendError(
                    "pynput's input listener did not start",
                    hint="the X server must offer the RECORD extension and accept connections",
                )

    def counts(self) -> InputCounts:
        """A snapshot of the counts since `start()`. Any thread."""
        with self._lock:
            return InputCounts(self._keys, self._clicks, self._scrolls, self._moves)

    def seconds_since_input(self) -> float | None:
        """Seconds since the last counted event, or None before the first one. Any thread."""
        with self._lock:
            last = self._last_input
        return None if last is None else time.monotonic() - last

    def close(self) -> None:
        """Stop and join the listeners. Never raises, never hangs.

        Waits at most 2 x STOP_TIMEOUT per listener; one that is still running then (a daemon
        thread) is abandoned with a warning. Idempotent; `start()` may be called again after.
        """
        listeners, self._listeners = self._listeners, []
        # A dead listener needs nothing, and pynput's stop() would wait for a readiness that
        # never comes.
        alive = [listener for listener in listeners if listener.is_alive()]
        for listener in alive:
            _request_stop(listener)
        _disable_recording(self._display_name, alive)
        for listener in alive:
            # threading's join, not pynput's: pynput's re-raises callback errors and may block
            # on its queue for the whole timeout.
            threading.Thread.join(listener, STOP_TIMEOUT)
            if listener.is_alive():
                log.warning(
                    "input listener did not stop within %.0f s; abandoning it", STOP_TIMEOUT
                )

    # The callbacks run in pynput's threads. They take the event's arguments (the key, the
    # button, coordinates) only to drop them: counts, never identities.

    def _on_key(self, *_event: object) -> None:
        with self._lock:
            self._keys += 1
            self._last_input = time.monotonic()

    def _on_click(
        self, _x: object, _y: object, _button: object, pressed: object, *_: object
    ) -> None:
        if not pressed:
            return  # a click is counted once, on the press
        with self._lock:
            self._clicks += 1
            self._last_input = time.monotonic()

    def _on_scroll(self, *_event: object) -> None:
        with self._lock:
            self._scrolls += 1
            self._last_input = time.monotonic()

    def _on_move(self, *_event: object) -> None:
        with self._lock:
            self._moves += 1
            self._last_input = time.monotonic()


def _require_record(display: str) -> None:
    """Raise BackendError unless `display` is reachable and offers RECORD (pynput's source)."""
    try:
        connection = Xlib.display.Display(display)
    except CONNECT_FAILED as exc:
        raise BackendError(
            f"cannot connect to the X display {display}: {exc}",
            hint="check that the X server is running and that DISPLAY and XAUTHORITY are right",
        ) from exc
    try:
        has_record = bool(connection.has_extension("RECORD"))
    finally:
        # The server may have gone away meanwhile; the listeners will find out.
        with contextlib.suppress(Xlib.error.ConnectionClosedError, OSError):
            connection.close()
    if not has_record:
        raise BackendError(
            f"the X server on {display} lacks the RECORD extension",
            hint=(
                "enable RECORD in the X server (Xorg and Xvfb have it), "
                "or set PRESENCE_BACKEND_INPUT=none"
            ),
        )


def _quiet(listener_class: Any) -> Any:
    """`listener_class` with a thread body that logs its end instead of printing a traceback.

    When the X server dies, pynput's listener raises from its own cleanup; threading would print
    that to stderr (the journal) as an unhandled exception.
    """

    class QuietListener(listener_class):  # type: ignore[misc]  # pynput ships no types
        def run(self) -> None:
            try:
                super().run()
            except Exception as exc:  # pynput's failure modes are undocumented; it only ends
                log.warning("input listener stopped: %s", exc)

    return QuietListener


def _wait_ready(listener: Any, deadline: float) -> bool:
    """Whether `listener` is recording by `deadline`.

    pynput's public `wait()` has no timeout and never returns when the listener died before it
    got ready, so it runs in a helper daemon thread that is abandoned in that (failure) case.
    """
    waiter = threading.Thread(target=listener.wait, name="presence-input-wait", daemon=True)
    waiter.start()
    while waiter.is_alive() and listener.is_alive():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        waiter.join(min(remaining, 0.05))
    return not waiter.is_alive() and listener.is_alive()


def _request_stop(listener: Any) -> None:
    """Tell one listener to stop, without letting pynput hang or raise into the caller.

    pynput's stop() blocks until the listener is ready, which a listener stuck while starting
    never becomes; it runs in a helper daemon thread that is abandoned in that case.
    """

    def stop() -> None:
        try:
            listener.stop()
        except Exception as exc:  # the connection may be gone; stopping is best effort
            log.debug("input listener stop failed: %s", exc)

    stopper = threading.Thread(target=stop, name="presence-input-stop", daemon=True)
    stopper.start()
    stopper.join(STOP_TIMEOUT)


def _disable_recording(display: str, listeners: list[Any]) -> None:
    """Disable the listeners' RECORD contexts from a control connection of our own.

    pynput 1.8 sends RecordDisableContext on the data connection, where the server does not
    read it until the next input event arrives, so a stopped listener keeps running until
    someone touches a key (moses-palmer/pynput#583). The RECORD spec wants the disable on a
    different connection. `_context` is pynput's private attribute; without it the listener
    simply stops at the next event.
    """
    contexts = [ctx for ctx in (getattr(lst, "_context", None) for lst in listeners) if ctx]
    if not contexts:
        return
    try:
        control = Xlib.display.Display(display)
    except CONNECT_FAILED as exc:
        log.debug("cannot open a control connection to stop input recording: %s", exc)
        return
    # A context pynput already freed is a harmless BadRecordContext: report it quietly.
    control.set_error_handler(lambda error, *_: log.debug("disabling recording: %s", error))
    try:
        for context in contexts:
            control.record_disable_context(context)
        control.sync()
    except (Xlib.error.ConnectionClosedError, Xlib.error.XError, OSError) as exc:
        log.debug("cannot disable input recording: %s", exc)
    finally:
        with contextlib.suppress(Xlib.error.ConnectionClosedError, OSError):
            control.close()  # the server may be gone: nothing left to release
