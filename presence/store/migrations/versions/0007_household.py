"""Household: each device's platform, last contact and zone; who ran each daemon (issue 12).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite alters tables by copying them (Alembic does it for us).
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("platform", sa.String(64), nullable=True))
        batch.add_column(sa.Column("last_seen", sa.Float, nullable=True))
        batch.add_column(sa.Column("zone", sa.String(64), nullable=True))
    with op.batch_alter_table("daemon_runs") as batch:
        batch.add_column(sa.Column("person", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("daemon_runs") as batch:
        batch.drop_column("person")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("zone")
        batch.drop_column("last_seen")
        batch.drop_column("platform")
