"""Which sites are blocked now, and the snooze the block page asks for (issue 14).

Used by the native host (presence.install.browser_host) on its own threads. A site rule is
in force exactly when the daemon started its occurrence and has not ended it (the enforcement
log, as `presence snooze` reads it), it is not overridden, and no snooze of the occurrence
runs: the browser keeps the same rulebook as the desktop. Snoozing calls
`presence.rulebook.overrides.snooze`, the function behind `presence snooze`, so it costs the
same (one per occurrence, then a reason; none for a strict rule).
"""

from __future__ import annotations

from typing import Any

from presence.core.clock import Clock, SystemClock
from presence.core.errors import InputError
from presence.rulebook.manage import to_rule
from presence.rulebook.overrides import for_device, in_force, override, refused_ids, snooze
from presence.rulebook.policy import defaults_for
from presence.rules.model import Rule
from presence.rules.values import parse_reason, parse_time
from presence.settings.files import Paths, database_url, zone_of
from presence.settings.schema import Settings
from presence.store import Store


class SiteRules:
    """The rules and enforcement log of the user's database, for one host. Any thread, one at
    a time (the host serialises them). Raises StorageError when the database cannot be read."""

    def __init__(self, paths: Paths, settings: Settings, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._device_name = settings.device.name
        self._settings = settings
        self._store = Store.open(database_url(settings, paths), create=True)
        self._rules, self._device_id = for_device(self._store, self._device_name, self._clock.now())

    def _site_rules(self) -> dict[str, Rule]:
        found = {}
        for stored in self._rules.rules():
            try:
                rule = to_rule(stored)
            except InputError:
                continue  # a rule this version cannot read is not enforced here either
            if rule.enabled and rule.sites and rule.applies_to(self._device_name):
                found[rule.name] = rule
        return found

    def blocked(self) -> list[dict[str, Any]]:
        """The site rules in force now, for the extension: rule, kind, sites, until (epoch),
        strict. A focus or tech-free window in force, or a limit reached today (its start is
        logged when the allowance runs out, its end at the end of the rules' day)."""
        now = self._clock.now()
        rules = self._site_rules()
        if not rules:
            return []
        out = []
        for name, occ, events in in_force(self._rules, self._device_id, now):
            rule = rules.get(name)
            # a snooze or override the daemon refused (issue 10) does not lift the block
            refused = refused_ids(events)
            taken = [e for e in events if e.id not in refused]
            if rule is None or any(e.event == "override" for e in taken):
                continue
            if any(
                e.event == "snooze" and float(e.detail.get("until", 0)) > now.timestamp()
                for e in taken
            ):
                continue
            out.append(
                {
                    "rule": name,
                    "kind": rule.kind.value,
                    "sites": list(rule.sites),
                    "until": None if occ.end is None else occ.end.timestamp(),
                    "strict": rule.strict,
                }
            )
        return out

    def snooze(self, rule_name: str, seconds: float, reason: str | None) -> str:
        """Snooze the rule's occurrence in force, as `presence snooze` does; the words to show.

        Raises InputError with the CLI's words (nothing in force, strict, a reason needed).
        """
        now = self._clock.now()
        done = snooze(
            self._rules,
            self._device_id,
            now,
            seconds,
            rule_name=rule_name,
            reason=reason,
            defaults=defaults_for(self._settings),
        )
        until = max(s.until for s in done).astimezone().strftime("%H:%M")
        return f"Snoozed {rule_name} until {until}."

    def override(self, rule_name: str, reason: str | None) -> str:
        """Skip the rule's occurrence in force, as `presence override --reason` does (the same
        function: a reason, once per occurrence, the rule set's overrides a week, none for a
        strict rule); the words to show. Raises InputError with the CLI's words."""
        settings = self._settings
        text = parse_reason(reason or "", "the reason")
        day_start = parse_time(settings.reports.day_start, "reports.day_start")
        occ = override(
            self._rules,
            self._device_id,
            zone_of(settings),
            self._clock.now(),
            rule_name,
            text,
            day_start,
            defaults=defaults_for(settings),
            source="browser",
        )
        if occ.end is None:
            return f"Overridden: {rule_name} is skipped."
        until = occ.end.astimezone().strftime("%H:%M")
        return f"Overridden: {rule_name} is skipped until {until}."

    def close(self) -> None:
        self._store.close()
