"""What a daemon on a shared database keeps locally to start and enforce offline (issue 12).

Two small JSON files in the data dir, 0600 in a 0700 dir, written atomically (a temp file
renamed over the old one), so a daemon killed while writing leaves the previous copy:

- the *local state* (`household-state.json`): this device's id on the server, which server
  (its URL without the password) and device name it belongs to, the device's zone, and when
  the server was last reached. Written each time the daemon reaches the server at start (and
  when the zone it reads changes); read when a daemon starts while the server is away.
- the *rule copy* (`rules-copy.json`): the rule rows as the enforcer last read them. Written
  each time the enforcer reloads the rules; `OfflineRules` serves it while the server is away,
  so the rules stay enforced from their last copy.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from presence.core.errors import StorageError
from presence.store.rules import RuleStore, StoredRule
from presence.store.tracking import Store

log = logging.getLogger(__name__)

STATE_FILE = "household-state.json"
RULES_FILE = "rules-copy.json"


def write_private(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path`, 0600, atomically. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _read(path: Path) -> Any:
    """The JSON in `path`, None when it is missing or unreadable (said in the log)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def server_of(store: Store) -> str:
    """The server a store writes to, as the local state names it (never the password)."""
    return store.engine.url.render_as_string(hide_password=True)


@dataclass(frozen=True, slots=True)
class LocalState:
    """This device as the shared server knew it when it was last reached."""

    server: str
    device_name: str
    device_id: int
    zone: str | None
    contact: float  # POSIX time of the last contact

    def save(self, data_dir: Path) -> None:
        """Write it (0600). Never raises: a failure is logged (starting offline needs it)."""
        try:
            write_private(data_dir / STATE_FILE, asdict(self))
        except OSError as exc:
            log.warning("cannot keep this device's state for offline starts: %s", exc)

    @classmethod
    def load(cls, data_dir: Path, server: str, device_name: str) -> LocalState | None:
        """The state saved for this server and device name; None when there is none."""
        data = _read(data_dir / STATE_FILE)
        try:
            state = cls(**data) if isinstance(data, dict) else None
        except TypeError:
            state = None
        if state is None or state.server != server or state.device_name != device_name:
            return None
        return state

    def with_zone(self, zone: str | None, now: datetime) -> LocalState:
        return LocalState(self.server, self.device_name, self.device_id, zone, now.timestamp())

    @property
    def contacted(self) -> datetime:
        return datetime.fromtimestamp(self.contact, UTC)


def _encode_rule(rule: StoredRule) -> dict[str, Any]:
    # the copy holds what the enforcer reads of a row; pending changes wait for the server
    return {
        "id": rule.id,
        "name": rule.name,
        "kind": rule.kind,
        "fields": rule.fields,
        "enabled": rule.enabled,
        "created": rule.created.timestamp(),
        "updated": rule.updated.timestamp(),
    }


def _decode_rule(item: dict[str, Any]) -> StoredRule:
    return StoredRule(
        id=int(item["id"]),
        name=str(item["name"]),
        kind=str(item["kind"]),
        fields=dict(item["fields"]),
        enabled=bool(item["enabled"]),
        created=datetime.fromtimestamp(float(item["created"]), UTC),
        updated=datetime.fromtimestamp(float(item["updated"]), UTC),
    )


def _outage(exc: StorageError) -> bool:
    """A failure to reach the server, not a refusal by it (a device role's permission)."""
    return "refused this change" not in exc.message


class OfflineRules(RuleStore):
    """The rule store, keeping a copy of the rules on disk and serving it while the server is
    away. Only `rules`, `fingerprint` and `apply_due` fall back; everything else (the log,
    usage) raises StorageError as the server's store does. Any thread."""

    def __init__(self, store: Store, copy: Path) -> None:
        super().__init__(store)
        self.copy = copy
        self._written: list[dict[str, Any]] | None = None

    def _from_copy(self, exc: StorageError) -> list[StoredRule]:
        data = _read(self.copy)
        if not _outage(exc) or not isinstance(data, list):
            raise exc
        try:
            return [_decode_rule(item) for item in data]
        except (KeyError, TypeError, ValueError):
            log.warning("the rule copy %s is damaged: not used", self.copy)
            raise exc from None

    def rules(self) -> list[StoredRule]:
        """The rules from the server (copied to disk when they changed); the copy when the
        server cannot be reached. Raises StorageError when neither can be read."""
        try:
            found = super().rules()
        except StorageError as exc:
            return self._from_copy(exc)
        encoded = [_encode_rule(r) for r in found]
        if encoded != self._written:
            try:
                write_private(self.copy, encoded)
                self._written = encoded
            except OSError as exc:
                log.warning("cannot keep a copy of the rules for offline use: %s", exc)
        return found

    def fingerprint(self) -> tuple[Any, ...]:
        """The server's fingerprint; while it is away, one naming the copy (so the copy is read
        once). Raises StorageError when there is no copy."""
        try:
            return super().fingerprint()
        except StorageError as exc:
            if not _outage(exc) or not self.copy.exists():
                raise
            # the shape of the server's (count, updated, id sum, pending_at): nothing pending
            return (-1, self.copy.stat().st_mtime_ns, -1, None)

    def apply_due(self, now: datetime) -> list[str]:
        """Pending changes are carried out by the server's side; while it is away they wait
        (the copy is enforced as it was). Raises StorageError when there is no copy."""
        try:
            return super().apply_due(now)
        except StorageError as exc:
            if not _outage(exc) or not self.copy.exists():
                raise
            return []
