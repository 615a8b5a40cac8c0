"""Categories for reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("app_pattern", sa.Text, nullable=True),
        sa.Column("title_pattern", sa.Text, nullable=True),
        sa.Column("replaces_builtin", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created", sa.Float, nullable=False),
    )
    op.create_index("ix_categories_name", "categories", ["name"])


def downgrade() -> None:
    op.drop_table("categories")
