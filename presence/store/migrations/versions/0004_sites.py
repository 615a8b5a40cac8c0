"""Sites: the browser tab's domain on spans (issue 14).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite alters tables by copying them (Alembic does it for us).
    with op.batch_alter_table("spans") as batch:
        batch.add_column(sa.Column("site", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("spans") as batch:
        batch.drop_column("site")
