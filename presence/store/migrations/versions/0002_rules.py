"""Rules and the enforcement log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("devices", sa.Text, nullable=True),
        sa.Column("enabled", sa.Integer, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("updated", sa.Float, nullable=False),
        sa.Column("pending_spec", sa.Text, nullable=True),
        sa.Column("pending_enabled", sa.Integer, nullable=True),
        sa.Column("pending_delete", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pending_at", sa.Float, nullable=True),
        sa.UniqueConstraint("name", name="uq_rules_name"),
    )
    op.create_table(
        "enforcement_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column(
            "device_id",
            sa.Integer,
            sa.ForeignKey("devices.id", name="fk_enforcement_log_device_id_devices"),
            nullable=True,
        ),
        sa.Column("rule_id", sa.Integer, nullable=True),
        sa.Column("rule_name", sa.String(64), nullable=False),
        sa.Column("occurrence_start", sa.Float, nullable=True),
        sa.Column("occurrence_end", sa.Float, nullable=True),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_enforcement_log_ts", "enforcement_log", ["ts"])
    op.create_index(
        "ix_enforcement_log_rule_occurrence",
        "enforcement_log",
        ["rule_name", "occurrence_start"],
    )


def downgrade() -> None:
    op.drop_table("enforcement_log")
    op.drop_table("rules")
