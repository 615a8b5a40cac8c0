"""Storage: SQLAlchemy tables, queries and Alembic migrations. Returns model objects.

SQLAlchemy and Alembic are imported here and nowhere else. The names below are loaded when
first used (PEP 562): `rows`, `reads` and `sqlite_reads` are standard library only, and
importing them must not pull SQLAlchemy in through this package (issue 13: `presence today`
reads a SQLite file without it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from presence.store.rows import Device, Pause, Run
    from presence.store.rules import EnforcementEvent, RuleStore, StoredRule
    from presence.store.tracking import Store

_WHERE = {
    "Device": "presence.store.rows",
    "Pause": "presence.store.rows",
    "Run": "presence.store.rows",
    "Store": "presence.store.tracking",
    "EnforcementEvent": "presence.store.rules",
    "RuleStore": "presence.store.rules",
    "StoredRule": "presence.store.rules",
}

__all__ = [
    "Device",
    "EnforcementEvent",
    "Pause",
    "RuleStore",
    "Run",
    "Store",
    "StoredRule",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        # not ours: lets `from presence.store import database` import the submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
