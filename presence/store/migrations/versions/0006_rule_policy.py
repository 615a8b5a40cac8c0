"""Rule policy: the rule set's cooldown and snooze/override allowances (issue 10).

A database that already holds rules gets the built-in policy (so that no device's settings
file decides it); an empty rule set takes the settings file's values on first use.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# presence.rules.policy.BUILT_IN at the time of this migration (a migration never imports
# the code it outlives)
_BUILT_IN = {
    "cooldown": 86400.0,
    "snooze": 300.0,
    "snooze_max": 900.0,
    "snoozes": 3.0,
    "snooze_wait": 60.0,
    "overrides_per_week": 2.0,
}


def upgrade() -> None:
    table = op.create_table(
        "rule_policy",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("pending_value", sa.Float, nullable=True),
        sa.Column("pending_at", sa.Float, nullable=True),
        sa.Column("updated", sa.Float, nullable=False),
    )
    has_rules = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM rules")).scalar()
    if has_rules:
        now = time.time()
        op.bulk_insert(
            table, [{"name": k, "value": v, "updated": now} for k, v in _BUILT_IN.items()]
        )


def downgrade() -> None:
    op.drop_table("rule_policy")
