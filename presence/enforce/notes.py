"""The enforcer's notifications: one per occurrence, updated in place (warning countdown,
start, nudges), with a "Snooze" button when the rule allows one, and a fallback notifier
(the composition root passes the log's) when no notifier works. Thread contract: the
enforcer's lock is held for every call.
"""

from __future__ import annotations

from collections.abc import Callable

from presence.enforce.messages import minutes
from presence.platform.base import Notifier
from presence.platform.capability import Capability

OccurrenceKey = tuple[str, float]
SNOOZE_KEY = "snooze"


class Notes:
    """Shows notifications through the notifier capability and remembers which belongs to
    which occurrence, so a button click can be traced back to it."""

    def __init__(
        self,
        notifier: Capability[Notifier],
        fallback: Notifier,
        snooze_seconds: float,
        on_action: Callable[[int, str], None],
    ) -> None:
        self._notifier = notifier
        self._fallback = fallback
        self._label = f"Snooze {minutes(snooze_seconds)}"
        self._on_action = on_action
        self._listening: Notifier | None = None
        self._ids: dict[OccurrenceKey, int] = {}  # occurrence -> its notification
        self._keys: dict[int, OccurrenceKey] = {}  # notification -> occurrence

    def show(
        self, key: OccurrenceKey, summary: str, body: str, mono: float, *, snooze: bool
    ) -> None:
        """Show (or update) the occurrence's notification. Raises only a fatal error: a failing
        notifier is counted and backed off (`Capability.failed`), and the fallback shows it."""
        notifier = self._notifier.get(mono)
        if notifier is not None:
            actions = [(SNOOZE_KEY, self._label)] if snooze else []
            try:
                if self._listening is not notifier:
                    notifier.on_action(self._on_action)
                    self._listening = notifier
                note = notifier.notify(
                    summary, body, replaces_id=self._ids.get(key, 0), actions=actions
                )
            except Exception as exc:
                self._notifier.failed(exc, mono)  # rebuilt later; the fallback says it meanwhile
            else:
                self._notifier.worked()
                old = self._ids.get(key)
                if old is not None and old != note:
                    self._keys.pop(old, None)
                self._ids[key] = note
                self._keys[note] = key
                return
        self._fallback.notify(summary, body)

    def occurrence_of(self, note: int) -> OccurrenceKey | None:
        return self._keys.get(note)

    def forget(self, key: OccurrenceKey) -> None:
        """The occurrence is over: its notification is no longer updated."""
        note = self._ids.pop(key, None)
        if note is not None:
            self._keys.pop(note, None)
