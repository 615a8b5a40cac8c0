"""Loading KWin scripts over D-Bus, and serving the calls those scripts make back to presence.

KWin runs JavaScript scripts loaded with `org.kde.kwin.Scripting.loadScript(path, plugin)` on
`org.kde.KWin /Scripting`, started with `start()` and removed with `unloadScript(plugin)`
(KWin 5 and 6 alike). A script cannot return data to its loader; it reports by calling a D-Bus
method with `callDBus(service, path, interface, method, args...)`. presence's D-Bus names all
start with `io.github.presence_desktop.Presence`; the focus script calls the well-known name
`io.github.presence_desktop.Presence.KWin` that the window source owns, one-shot scripts call
the unique name of the connection that loaded them.

`ScriptReceiver` is that callee: a `BusListener` (a connection served on its own thread), so
the sampler thread never waits on it. It answers only KWin (the current owner of
`org.kde.KWin`, followed through `NameOwnerChanged`): any other peer gets AccessDenied, so no
other program on the session bus can feed presence a made-up window.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from jeepney import (  # type: ignore[import-untyped, unused-ignore]
    HeaderFields,
    MatchRule,
    Message,
    MessageFlag,
    MessageType,
    new_error,
    new_method_return,
)

from presence.core.errors import BackendError
from presence.platform.base import Probe, Session
from presence.platform.dbus import (
    ACCESS_DENIED,
    CONNECT_TIMEOUT,
    INVALID_ARGS,
    UNKNOWN_METHOD,
    UNKNOWN_OBJECT,
    BusConnection,
    RemoteObject,
    probe_bus,
)
from presence.platform.dbus_listener import BusListener

log = logging.getLogger(__name__)

KWIN = "org.kde.KWin"
SCRIPTING = RemoteObject(KWIN, "/Scripting", "org.kde.kwin.Scripting")
_BUS = RemoteObject("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")

NAME_PREFIX = "io.github.presence_desktop.Presence"
SERVICE = f"{NAME_PREFIX}.KWin"  # owned by the window source; the focus script calls it
PATH = "/io/github/presence_desktop/Presence/KWin"
INTERFACE = SERVICE

SCRIPT_TIMEOUT = 2.0  # seconds for loadScript/start/unloadScript: KWin compiles the script

NO_SESSION_BUS_HINT = (
    "run inside a KDE Plasma session whose D-Bus session bus is reachable "
    "(DBUS_SESSION_BUS_ADDRESS, or $XDG_RUNTIME_DIR/bus)"
)
NO_KWIN_HINT = "this backend needs KWin (KDE Plasma); choose the window backend of your desktop"


def probe_kwin(session: Session) -> Probe:
    """Whether a KWin backend may work here, judged without connecting (side-effect free).

    Needs a session bus socket; a session that names another compositor (sway, GNOME, ...) is
    rejected, but forcing the backend by name overrides that. Whether KWin really answers on
    the bus is checked by the backend's constructor.
    """
    bus = probe_bus(session.session_bus, bus="session D-Bus", hint=NO_SESSION_BUS_HINT)
    if not bus.ok:
        return bus
    found = session.compositor
    if found not in (None, "kwin"):
        return Probe.no(
            f"the session runs {found}, not KWin",
            hint=f"use the {found} backend (or leave it on auto)",
            forceable=True,
        )
    return Probe.yes("session D-Bus (KWin is checked when the backend starts)")


def render(template: str, values: Mapping[str, str]) -> str:
    """The packaged script `template` with each `__KEY__` replaced by a JSON string literal
    (so a value can never break out of its string). Pure apart from reading package data."""
    text = resources.files(__package__).joinpath(template).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"__{key}__", json.dumps(value))
    return text


class KWinScripts:
    """Loads, starts and unloads scripts in the session's KWin; owns the directory the script
    files are written to (KWin reads a script from a path).

    Thread contract: any thread (the calls go through one serialised `BusConnection`).
    """

    def __init__(self, bus: BusConnection, runtime_dir: str | None) -> None:
        """Check that KWin offers scripting on `bus`. Raises BackendError when it does not."""
        self._bus = bus
        if not bus.name_has_owner(KWIN, timeout=CONNECT_TIMEOUT):
            raise BackendError("KWin is not running on the session D-Bus", hint=NO_KWIN_HINT)
        self.loaded("presence-probe")  # raises when /Scripting is missing (not KWin's)
        base = runtime_dir if runtime_dir and Path(runtime_dir).is_dir() else None
        self._dir = Path(tempfile.mkdtemp(prefix="presence-kwin-", dir=base))

    def kwin_owner(self) -> str | None:
        """KWin's unique bus name now, or None when KWin is not on the bus."""
        try:
            return str(self._bus.call(_BUS, "GetNameOwner", "s", (KWIN,))[0])
        except BackendError:
            return None

    def load(self, plugin: str, source: str) -> None:
        """Load `source` as script `plugin` (replacing one of that name left over) and start it.

        Raises BackendError when KWin refuses the script or does not answer.
        """
        path = self._dir / f"{plugin}.js"
        path.write_text(source, encoding="utf-8")
        if self.loaded(plugin):
            self.unload(plugin)
        (script_id,) = self._call("loadScript", "ss", (str(path), plugin))
        if not isinstance(script_id, int) or script_id < 0:
            raise BackendError(
                f"KWin refused to load the script {path} as {plugin!r} ({script_id!r})",
                hint="see KWin's log (journalctl --user) for the script error",
            )
        self._call("start")

    def unload(self, plugin: str) -> bool:
        """Unload script `plugin`; True when it was loaded. Raises BackendError when KWin
        does not answer."""
        (was,) = self._call("unloadScript", "s", (plugin,))
        (self._dir / f"{plugin}.js").unlink(missing_ok=True)
        return bool(was)

    def loaded(self, plugin: str) -> bool:
        """Whether script `plugin` is loaded. Raises BackendError like `load()`."""
        (answer,) = self._call("isScriptLoaded", "s", (plugin,))
        return bool(answer)

    def _call(
        self, method: str, signature: str = "", body: tuple[Any, ...] = ()
    ) -> tuple[Any, ...]:
        return self._bus.call(SCRIPTING, method, signature, body, timeout=SCRIPT_TIMEOUT)

    def close(self) -> None:
        """Remove the script files. Idempotent; the bus stays the caller's."""
        shutil.rmtree(self._dir, ignore_errors=True)


class CallSink(Protocol):
    """What a `ScriptReceiver` hands the calls to; all methods run on the receiver's thread."""

    def on_call(self, member: str, body: tuple[Any, ...]) -> None:
        """A call from KWin's script. Raises ValueError for a call it does not understand."""

    def deadline(self) -> float | None:
        """A time.monotonic() instant at which `on_deadline()` is due, or None."""

    def on_deadline(self) -> None: ...

    def on_kwin_owner(self, owner: str | None) -> None:
        """KWin left the bus (None) or a new KWin took `org.kde.KWin` (its scripts are gone)."""

    def on_lost(self, reason: str) -> None:
        """The receiver's connection is gone: no call will arrive any more."""


class ScriptReceiver:
    """Serves PATH/INTERFACE to KWin's scripts on a `BusListener` (its own connection and
    thread), handing each call to `sink`.

    With `own` it also owns that well-known name (BackendError when another process has it:
    another presence daemon in this session). `name` is what scripts should call. The thread
    starts in the constructor; `close()` stops it.
    """

    def __init__(self, address: str, sink: CallSink, *, own: str | None = None) -> None:
        self._sink = sink
        self._listener = BusListener(address, name="kwin")
        try:
            if own is not None and not self._listener.request_name(own):
                raise BackendError(
                    f"the D-Bus name {own} is taken: another presence daemon runs in this session",
                    hint="stop the other daemon (presence service stop), or use that one",
                )
            rule = MatchRule(
                type="signal",
                sender="org.freedesktop.DBus",
                interface="org.freedesktop.DBus",
                member="NameOwnerChanged",
                path="/org/freedesktop/DBus",
            )
            rule.add_arg_condition(0, KWIN)
            self._listener.add_match(rule)
            self._kwin = self._listener.name_owner(KWIN)
        except BackendError:
            self._listener.close()
            raise
        self.name: str = own or self._listener.unique_name
        self._listener.start(
            self._dispatch,
            on_lost=sink.on_lost,
            deadline=sink.deadline,
            on_deadline=sink.on_deadline,
        )

    def _dispatch(self, msg: Message) -> None:
        fields = msg.header.fields
        kind = msg.header.message_type
        if kind is MessageType.signal:
            if fields.get(HeaderFields.member) == "NameOwnerChanged" and msg.body[0] == KWIN:
                self._kwin = msg.body[2] or None
                self._sink.on_kwin_owner(self._kwin)
            return
        if kind is not MessageType.method_call:
            return
        error = self._check(msg)
        if error is None:
            try:
                self._sink.on_call(fields.get(HeaderFields.member, ""), tuple(msg.body))
            except ValueError as exc:
                error = (INVALID_ARGS, str(exc))
            except Exception as exc:
                log.exception("handling a KWin script call failed")
                error = ("org.freedesktop.DBus.Error.Failed", str(exc))
        if msg.header.flags & MessageFlag.no_reply_expected:
            return
        if error is None:
            self._listener.send(new_method_return(msg))
        else:
            self._listener.send(new_error(msg, error[0], "s", (error[1],)))

    def _check(self, msg: Message) -> tuple[str, str] | None:
        fields = msg.header.fields
        if fields.get(HeaderFields.path) != PATH:
            return UNKNOWN_OBJECT, f"no object at {fields.get(HeaderFields.path)}"
        if fields.get(HeaderFields.interface) not in (INTERFACE, None):
            return UNKNOWN_METHOD, f"no interface {fields.get(HeaderFields.interface)}"
        if self._kwin is None or fields.get(HeaderFields.sender) != self._kwin:
            return ACCESS_DENIED, "only KWin may call this"
        return None

    def close(self) -> None:
        """Stop serving and release the name. Idempotent; not from the receiver's thread."""
        self._listener.close()
