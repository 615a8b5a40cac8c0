"""The daemon's live D-Bus interface on the session bus (issue 13), `Daemon1`.

Properties come from the same snapshot the status file holds (presence.daemon.glance): they
change when it is written (on change, at most once a second) and `PropertiesChanged` is sent
then, with the properties whose values changed. `TodayActiveSeconds` is computed when read,
so it grows between signals while `State` is `active` (a signal a second for a clock would
cost every listener a wake-up: readers add the time since `Since`, or ask again).

Methods that loosen a rule call exactly the rulebook functions the CLI calls
(presence.rulebook.overrides.snooze / override, with the rule set's policy seeded from the
settings as the CLI seeds it), so the same costs and checks apply: the policy's free snoozes,
a reason from the second, none for a strict rule; an override always costs a reason and counts
against the week's. A snooze whose cost is a wait sat through (`WaitFirst`, from the third) is
refused over D-Bus: the wait is paid at a terminal, with `presence snooze`. A refusal is the
D-Bus error `io.github.presence_desktop.Presence.Error.Refused` with the CLI's message and
hint.

The XML below is docs/dbus-interface.xml (a unit test keeps the two equal).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, tzinfo
from typing import Any

from presence.core.clock import Clock
from presence.core.errors import InputError, PresenceError
from presence.daemon.glance import Glance
from presence.health import snapshot
from presence.platform.dbus_service import ObjectServer, Refused, Value
from presence.rulebook import overrides
from presence.rules.policy import RulePolicy
from presence.rules.values import parse_reason
from presence.store import Store

log = logging.getLogger(__name__)

NAME = "io.github.presence_desktop.Presence.Daemon1"
PATH = "/io/github/presence_desktop/Presence/Daemon1"
INTERFACE = NAME
REFUSED = "io.github.presence_desktop.Presence.Error.Refused"
FAILED = "io.github.presence_desktop.Presence.Error.Failed"
SNOOZE_LONGEST = 3600.0
"""The longest snooze, as the CLI's (`presence snooze` takes at most 1h)."""

INTROSPECTION = """\
<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<!-- presence's daemon on the session bus: name io.github.presence_desktop.Presence.Daemon1,
     object /io/github/presence_desktop/Presence/Daemon1. Instants are Unix seconds (0: none);
     strings are empty for none. Every property is read-only and announced by
     org.freedesktop.DBus.Properties.PropertiesChanged when it changes (at most once a second),
     except TodayActiveSeconds, which grows between signals while State is "active". -->
<node>
  <interface name="io.github.presence_desktop.Presence.Daemon1">
    <property name="Device" type="s" access="read"/>
    <property name="App" type="s" access="read"/>
    <property name="State" type="s" access="read"/> <!-- active, idle, locked, or "" -->
    <property name="Since" type="x" access="read"/>
    <property name="TodayActiveSeconds" type="d" access="read"/>
    <property name="DailyLimitSeconds" type="d" access="read"/> <!-- 0: no limit rule -->
    <property name="Rule" type="s" access="read"/> <!-- the scheduled window in force -->
    <property name="RuleKind" type="s" access="read"/>
    <property name="RuleEnds" type="x" access="read"/>
    <property name="NextRule" type="s" access="read"/>
    <property name="NextStarts" type="x" access="read"/>
    <property name="Paused" type="b" access="read"/>
    <property name="PauseReason" type="s" access="read"/>
    <property name="PausedUntil" type="x" access="read"/>
    <property name="Offline" type="b" access="read"/> <!-- the database is unreachable -->
    <!-- Snooze the rules in force (rule "": all of them) for seconds (0: the rule set's
         snooze length; at most 3600); reason "" for none. Returns when the snooze ends.
         Refused (io.github.presence_desktop.Presence.Error.Refused) as `presence snooze`
         refuses; a snooze that costs a wait is refused here: it is paid at a terminal. -->
    <method name="Snooze">
      <arg name="rule" type="s" direction="in"/>
      <arg name="seconds" type="u" direction="in"/>
      <arg name="reason" type="s" direction="in"/>
      <arg name="until" type="x" direction="out"/>
    </method>
    <!-- Skip the rule's occurrence in force, or else its next one; a reason is required.
         Returns the skipped occurrence's start and end (0: open-ended). -->
    <method name="Override">
      <arg name="rule" type="s" direction="in"/>
      <arg name="reason" type="s" direction="in"/>
      <arg name="start" type="x" direction="out"/>
      <arg name="end" type="x" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get">
      <arg name="interface" type="s" direction="in"/>
      <arg name="name" type="s" direction="in"/>
      <arg name="value" type="v" direction="out"/>
    </method>
    <method name="GetAll">
      <arg name="interface" type="s" direction="in"/>
      <arg name="values" type="a{sv}" direction="out"/>
    </method>
    <signal name="PropertiesChanged">
      <arg name="interface" type="s"/>
      <arg name="changed" type="a{sv}"/>
      <arg name="invalidated" type="as"/>
    </signal>
  </interface>
  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect">
      <arg name="xml" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
  </interface>
</node>
"""


def _unix(text: str | None) -> int:
    when = snapshot.instant(text)
    return 0 if when is None else int(when.timestamp())


def properties(data: dict[str, Any] | None, now: datetime) -> dict[str, Value]:
    """The interface's properties from a snapshot (None: nothing published yet)."""
    data = data or {}
    current = data.get("current") or {}
    rule = data.get("rule") or {}
    upcoming = data.get("next") or {}
    paused = data.get("paused") or {}
    return {
        "Device": ("s", data.get("device") or ""),
        "App": ("s", current.get("app") or ""),
        "State": ("s", current.get("state") or ""),
        "Since": ("x", _unix(current.get("since"))),
        "TodayActiveSeconds": ("d", round(snapshot.active_today(data, now), 3) if data else 0.0),
        "DailyLimitSeconds": ("d", float(data.get("limit_s") or 0.0)),
        "Rule": ("s", rule.get("name") or ""),
        "RuleKind": ("s", rule.get("kind") or ""),
        "RuleEnds": ("x", _unix(rule.get("ends"))),
        "NextRule": ("s", upcoming.get("name") or ""),
        "NextStarts": ("x", _unix(upcoming.get("starts"))),
        "Paused": ("b", bool(paused)),
        "PauseReason": ("s", paused.get("reason") or ""),
        "PausedUntil": ("x", _unix(paused.get("until"))),
        "Offline": ("b", bool(data.get("offline"))),
    }


class BusService:
    """Serves `Daemon1` for one daemon. Built by the composition root; `close()` at stop."""

    def __init__(
        self,
        address: str,
        glance: Glance,
        store: Store,
        device: str,
        zone: tzinfo,
        day_start: time,
        defaults: RulePolicy,
        clock: Clock,
    ) -> None:
        """Connect and own the name. Raises BackendError (no bus, or the name is taken)."""
        self._glance = glance
        self._store = store
        self._device = device
        self._zone = zone
        self._day_start = day_start
        self._defaults = defaults
        self._clock = clock
        self._sent: dict[str, Value] = {}
        self._server = ObjectServer(
            address,
            name=NAME,
            path=PATH,
            interface=INTERFACE,
            introspection=INTROSPECTION,
            properties=self.values,
            methods={"Snooze": ("sus", self._snooze), "Override": ("ss", self._override)},
        )
        glance.listeners.append(self.published)

    @property
    def name(self) -> str:
        return NAME

    def values(self) -> dict[str, Value]:
        """The properties now (listener thread)."""
        return properties(self._glance.current, self._clock.now())

    def published(self, data: dict[str, Any]) -> None:
        """The snapshot was written (sampler thread): signal the properties that changed.
        TodayActiveSeconds rides along only when something else changed."""
        values = properties(data, self._clock.now())
        changed = {k: v for k, v in values.items() if self._sent.get(k) != v}
        self._sent = values
        if set(changed) - {"TodayActiveSeconds"}:
            self._server.changed(changed)

    def close(self) -> None:
        self._server.close()

    # -- methods (listener thread) ---------------------------------------------------------

    def _refusing(self, action: Callable[[], tuple[str, tuple[Any, ...]]]) -> Any:
        try:
            return action()
        except InputError as exc:
            hint = f" ({exc.hint})" if exc.hint else ""
            raise Refused(REFUSED, exc.message + hint) from None
        except PresenceError as exc:
            log.warning("a D-Bus call failed: %s", exc.message)
            raise Refused(FAILED, exc.message) from None

    def _snooze(self, body: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        rule, seconds, reason = str(body[0]), int(body[1]), str(body[2])

        def act() -> tuple[str, tuple[Any, ...]]:
            if seconds > SNOOZE_LONGEST:
                raise InputError(
                    f"a snooze of {seconds} s is longer than the longest, {SNOOZE_LONGEST:.0f} s",
                    hint="snooze for at most an hour",
                )
            length = float(seconds) if seconds else None  # None: the rule set's length
            given = parse_reason(reason, "reason") if reason.strip() else None
            now = self._clock.now()
            store, device_id = overrides.for_device(self._store, self._device, now)
            done = overrides.snooze(
                store,
                device_id,
                now,
                length,
                rule_name=rule or None,
                reason=given,
                defaults=self._defaults,
            )
            log.info("snoozed over D-Bus: %s", ", ".join(d.rule.name for d in done))
            until = max(d.until for d in done)
            return "x", (int(until.timestamp()),)

        result: tuple[str, tuple[Any, ...]] = self._refusing(act)
        return result

    def _override(self, body: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
        rule, reason = str(body[0]), str(body[1])

        def act() -> tuple[str, tuple[Any, ...]]:
            given = parse_reason(reason, "reason")
            now = self._clock.now()
            store, device_id = overrides.for_device(self._store, self._device, now)
            occ = overrides.override(
                store, device_id, self._zone, now, rule, given, self._day_start,
                defaults=self._defaults,
            )  # fmt: skip
            log.info("overridden over D-Bus: %s", rule)
            end = 0 if occ.end is None else int(occ.end.timestamp())
            return "xx", (int(occ.start.timestamp()), end)

        result: tuple[str, tuple[Any, ...]] = self._refusing(act)
        return result
