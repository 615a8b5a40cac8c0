"""Tracking: devices, daemon runs, spans, pauses.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.UniqueConstraint("name", name="uq_devices_name"),
    )
    op.create_table(
        "daemon_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "device_id",
            sa.Integer,
            sa.ForeignKey("devices.id", name="fk_daemon_runs_device_id_devices"),
            nullable=False,
        ),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("ended", sa.Float, nullable=True),
        sa.Column("end_reason", sa.String(64), nullable=True),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
    )
    op.create_index("ix_daemon_runs_device_started", "daemon_runs", ["device_id", "started"])
    op.create_table(
        "spans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column(
            "device_id",
            sa.Integer,
            sa.ForeignKey("devices.id", name="fk_spans_device_id_devices"),
            nullable=False,
        ),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("daemon_runs.id", name="fk_spans_run_id_daemon_runs"),
            nullable=True,
        ),
        sa.Column("start_ts", sa.Float, nullable=False),
        sa.Column("end_ts", sa.Float, nullable=False),
        sa.Column("utc_offset", sa.Integer, nullable=False),
        sa.Column("app", sa.String(255), nullable=True),
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("keys", sa.Integer, nullable=False),
        sa.Column("clicks", sa.Integer, nullable=False),
        sa.Column("scrolls", sa.Integer, nullable=False),
        sa.Column("moves", sa.Integer, nullable=False),
        sa.UniqueConstraint("uid", name="uq_spans_uid"),
    )
    op.create_index("ix_spans_start", "spans", ["start_ts"])
    op.create_index("ix_spans_device_start", "spans", ["device_id", "start_ts"])
    op.create_table(
        "pauses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "device_id",
            sa.Integer,
            sa.ForeignKey("devices.id", name="fk_pauses_device_id_devices"),
            nullable=False,
        ),
        sa.Column("start_ts", sa.Float, nullable=False),
        sa.Column("until_ts", sa.Float, nullable=True),
        sa.Column("ended_ts", sa.Float, nullable=True),
        sa.Column("reason", sa.String(255), nullable=False),
    )
    op.create_index("ix_pauses_device_start", "pauses", ["device_id", "start_ts"])


def downgrade() -> None:
    op.drop_table("pauses")
    op.drop_table("spans")
    op.drop_table("daemon_runs")
    op.drop_table("devices")
