"""Rule policy: the zone the rules' times are in (issue 10), a text value of the policy.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rule_policy") as batch:
        batch.add_column(sa.Column("text", sa.String(64), nullable=True))
        batch.add_column(sa.Column("pending_text", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rule_policy") as batch:
        batch.drop_column("pending_text")
        batch.drop_column("text")
