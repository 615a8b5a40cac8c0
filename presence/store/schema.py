"""The database tables (SQLAlchemy Core). Instants are UTC epoch seconds (REAL/double).

Epoch floats keep rows small and let reports clip and sum spans in SQL on SQLite and
PostgreSQL alike. Each span also keeps the UTC offset it was recorded at, so its local day is
known without guessing the zone later.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

devices = Table(
    "devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("hostname", String(255), nullable=False),
    Column("created", Float, nullable=False),
    # issue 12, migration 0007: what it runs, when its daemon last wrote, its place in the home
    Column("platform", String(64), nullable=True),
    Column("last_seen", Float, nullable=True),
    Column("zone", String(64), nullable=True),
)

daemon_runs = Table(
    "daemon_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("started", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("ended", Float, nullable=True),
    Column("end_reason", String(64), nullable=True),
    Column("pid", Integer, nullable=False),
    Column("version", String(32), nullable=False),
    Column("person", String(64), nullable=True),  # who ran it (issue 12), migration 0007
    Index("ix_daemon_runs_device_started", "device_id", "started"),
)

spans = Table(
    "spans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(32), nullable=False, unique=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("run_id", Integer, ForeignKey("daemon_runs.id"), nullable=True),
    Column("start_ts", Float, nullable=False),
    Column("end_ts", Float, nullable=False),
    Column("utc_offset", Integer, nullable=False),
    Column("app", String(255), nullable=True),
    Column("title", Text, nullable=True),
    Column("state", String(8), nullable=False),
    Column("keys", Integer, nullable=False, default=0),
    Column("clicks", Integer, nullable=False, default=0),
    Column("scrolls", Integer, nullable=False, default=0),
    Column("moves", Integer, nullable=False, default=0),
    Column("site", String(255), nullable=True),  # browser tab's domain (issue 14), migration 0004
    Index("ix_spans_start", "start_ts"),
    Index("ix_spans_device_start", "device_id", "start_ts"),
)

pauses = Table(
    "pauses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
    Column("start_ts", Float, nullable=False),
    Column("until_ts", Float, nullable=True),  # planned end; NULL: until `presence resume`
    Column("ended_ts", Float, nullable=True),  # actual end when resumed early
    Column("reason", String(255), nullable=False),
    Index("ix_pauses_device_start", "device_id", "start_ts"),
)

# Rules (issue: tech-free windows, device-free schedules, focus, limits, breaks). Shared by all
# devices on one database. `spec` is the rule's definition as JSON (kind-specific fields:
# days, start, end, apps, categories, action, warn, grace, strict, on, per_day, after, ...).
rules = Table(
    "rules",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # tech-free|device-free|focus|limit|break
    Column("spec", Text, nullable=False),  # JSON
    Column("devices", Text, nullable=True),  # JSON list of device names; NULL: all devices
    Column("enabled", Integer, nullable=False, default=1),
    Column("created", Float, nullable=False),
    Column("updated", Float, nullable=False),
    # A loosening change waits for `rules.cooldown`: the new spec/enabled apply at pending_at.
    Column("pending_spec", Text, nullable=True),
    Column("pending_enabled", Integer, nullable=True),
    Column("pending_delete", Integer, nullable=False, default=0, server_default="0"),
    Column("pending_at", Float, nullable=True),
)

# Every warning, action, snooze, override and outcome, for the reports' adherence figures.
enforcement_log = Table(
    "enforcement_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts", Float, nullable=False),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=True),
    Column("rule_id", Integer, nullable=True),  # no FK: the log outlives a removed rule
    Column("rule_name", String(64), nullable=False),
    Column("occurrence_start", Float, nullable=True),  # the occurrence this event belongs to
    Column("occurrence_end", Float, nullable=True),
    # warning|start|action|nudge|snooze|override|end|kept|broken|error
    Column("event", String(16), nullable=False),
    Column("detail", Text, nullable=True),  # JSON: lead time, action, reason, minutes used, ...
    Index("ix_enforcement_log_ts", "ts"),
    Index("ix_enforcement_log_rule_occurrence", "rule_name", "occurrence_start"),
)

# Categories for reports: the user's rules; built-in defaults live in
# presence.tracking.categories. A rule is a regular expression over the app, the title, or both
# (both must match). The most specific match wins (see presence.tracking.categories).
# `replaces_builtin` = 1 turns off the built-in rules of the same name (override by name).
categories = Table(
    "categories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("app_pattern", Text, nullable=True),
    Column("title_pattern", Text, nullable=True),
    Column("replaces_builtin", Integer, nullable=False, default=0, server_default="0"),
    Column("created", Float, nullable=False),
    Index("ix_categories_name", "name"),
)

# The daemon recording each device (issue 11): one row per device name, taken atomically (the
# primary key refuses a second INSERT; a takeover is an UPDATE conditioned on the old token),
# so a second daemon is refused whatever its runtime directory or host. `heartbeat` moves while
# the holder lives; a row whose heartbeat is old, or whose pid is gone on this host, is stale.
recorders = Table(
    "recorders",
    metadata,
    Column("device_name", String(64), primary_key=True),
    Column("token", String(32), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("hostname", String(255), nullable=False),
    Column("since", Float, nullable=False),
    Column("heartbeat", Float, nullable=False),
)

# The rule set's policy (issue 10): cooldown, snooze length and allowance, overrides a week.
# Shared by all devices like the rules, so no device's settings file can loosen them; a
# loosening change waits for the cooldown in force (`pending_value` applies at `pending_at`).
rule_policy = Table(
    "rule_policy",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Float, nullable=False),
    Column("pending_value", Float, nullable=True),
    Column("pending_at", Float, nullable=True),
    Column("updated", Float, nullable=False),
    # a value that is a name (the rules' zone), migration 0008; `value` is 0 then
    Column("text", String(64), nullable=True),
    Column("pending_text", String(64), nullable=True),
)
