"""Storage: SQLAlchemy tables, queries and Alembic migrations. Returns model objects.

SQLAlchemy and Alembic are imported here and nowhere else.
"""

from presence.store.rules import EnforcementEvent, RuleStore, StoredRule
from presence.store.tracking import Device, Pause, Run, Store

__all__ = [
    "Device",
    "EnforcementEvent",
    "Pause",
    "RuleStore",
    "Run",
    "Store",
    "StoredRule",
]
