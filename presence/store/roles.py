"""Who may change what on a shared PostgreSQL database (issue 12): roles, grants, row security.

Two group roles:

- `presence_owner`: everything (rules, zones, other devices' data);
- `presence_device`: reads everything; writes only its own device's rows (spans, runs, pauses,
  recorder row, its `devices` row's platform and contact time) and enforcement events; rules,
  the rule policy, categories and zones are read only: adding, editing or removing a rule is
  refused with a permission error (`database.storage_error` says what to do). A loosening
  change's cooldown is carried out by the owner's own CLI or daemon, not by device roles.

A device's login role is `presence_device_<device name>`, a member of `presence_device`; the row
policies compare that name with the row's device. The table owner (whoever ran `household init`)
and superusers are not bound by row security, as PostgreSQL does by default.

Everything here is idempotent: `init` again after an upgrade grants the new tables too.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import Engine, text

from presence.core.errors import InputError, StorageError
from presence.store import database

OWNER = "presence_owner"
DEVICE = "presence_device"
DEVICE_PREFIX = "presence_device_"

_OWN_DEVICE = (
    f"device_id IN (SELECT id FROM devices WHERE '{DEVICE_PREFIX}' || name = current_user)"  # noqa: S608 - constants
)
_OWN_NAME = f"'{DEVICE_PREFIX}' || device_name = current_user"

# table -> {command: (USING, WITH CHECK)} for the device role; SELECT is open to it everywhere.
_DEVICE_POLICIES: dict[str, dict[str, tuple[str | None, str | None]]] = {
    "spans": {"INSERT": (None, _OWN_DEVICE), "UPDATE": (_OWN_DEVICE, _OWN_DEVICE)},
    "daemon_runs": {"INSERT": (None, _OWN_DEVICE), "UPDATE": (_OWN_DEVICE, _OWN_DEVICE)},
    "pauses": {"INSERT": (None, _OWN_DEVICE), "UPDATE": (_OWN_DEVICE, _OWN_DEVICE)},
    "enforcement_log": {"INSERT": (None, f"device_id IS NULL OR {_OWN_DEVICE}")},
    "devices": {
        "INSERT": (None, f"'{DEVICE_PREFIX}' || name = current_user"),
        "UPDATE": (f"'{DEVICE_PREFIX}' || name = current_user", None),
    },
    "recorders": {
        "INSERT": (None, _OWN_NAME),
        "UPDATE": (_OWN_NAME, _OWN_NAME),
        "DELETE": (_OWN_NAME, None),
    },
}
_DEVICE_GRANTS = [
    "GRANT INSERT, UPDATE ON spans, daemon_runs, pauses TO presence_device",
    "GRANT INSERT ON enforcement_log TO presence_device",
    "GRANT INSERT, UPDATE, DELETE ON recorders TO presence_device",
    "GRANT INSERT ON devices TO presence_device",
    # not `zone` nor `name`: where a device stands is the owner's to say
    "GRANT UPDATE (hostname, platform, last_seen) ON devices TO presence_device",
]


def _check_postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise InputError(
            f"a household needs a PostgreSQL database.url; this one is {engine.dialect.name}",
            hint='set [database] url = "postgresql+psycopg://owner@server/presence" first '
            "(docs/user-guide.md, Household)",
        )


def role_of(device: str) -> str:
    """The login role of `device`. Raises InputError for a name PostgreSQL would mangle."""
    role = DEVICE_PREFIX + device
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,63}", role) or len(role) > 63:
        raise InputError(
            f"the device name {device!r} does not make a database role name",
            hint="use up to 47 letters, digits, '-', '_' or '.'",
        )
    return role


def init(engine: Engine) -> None:
    """Create (or bring up to date) the roles, grants and row policies. Run as the tables'
    owner or a superuser. Raises InputError (not PostgreSQL), StorageError."""
    _check_postgres(engine)
    statements = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
        f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        for role in (OWNER, DEVICE)
    ]
    statements += [
        f"GRANT USAGE ON SCHEMA public TO {OWNER}, {DEVICE}",
        f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {OWNER}",
        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {OWNER}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {DEVICE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {DEVICE}",
        *_DEVICE_GRANTS,
    ]
    for table, commands in _DEVICE_POLICIES.items():
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS owner_all ON {table}",
            f"CREATE POLICY owner_all ON {table} TO {OWNER} USING (true) WITH CHECK (true)",
            f"DROP POLICY IF EXISTS device_read ON {table}",
            f"CREATE POLICY device_read ON {table} FOR SELECT TO {DEVICE} USING (true)",
        ]
        for command, (using, check) in commands.items():
            name = f"device_{command.lower()}"
            clause = f" USING ({using})" if using else ""
            clause += f" WITH CHECK ({check})" if check else ""
            statements += [
                f"DROP POLICY IF EXISTS {name} ON {table}",
                f"CREATE POLICY {name} ON {table} FOR {command} TO {DEVICE}{clause}",
            ]
    _run(engine, statements)


def add_device(engine: Engine, device: str) -> str:
    """Create (or reset the password of) the login role of `device`; returns the password.

    Raises InputError (not PostgreSQL, bad name), StorageError.
    """
    _check_postgres(engine)
    role = role_of(device)
    password = secrets.token_urlsafe(24)  # letters, digits, '-' and '_': safe in quotes
    _run(
        engine,
        [
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f'THEN CREATE ROLE "{role}" LOGIN; END IF; END $$',
            f"ALTER ROLE \"{role}\" LOGIN PASSWORD '{password}'",
            f'GRANT {DEVICE} TO "{role}"',
        ],
    )
    return password


def add_owner(engine: Engine, role: str) -> None:
    """Make an existing login role a household owner. Raises StorageError."""
    _check_postgres(engine)
    _run(engine, [f'GRANT {OWNER} TO "{role}"'])


def _run(engine: Engine, statements: list[str]) -> None:
    from sqlalchemy.exc import DBAPIError  # noqa: PLC0415

    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    except DBAPIError as exc:
        error = database.storage_error(exc, engine)
        raise StorageError(
            f"cannot set up the household's roles: {error.message}",
            hint="run `presence household init` with the database.url of the tables' owner "
            "or a PostgreSQL superuser",
        ) from None


def device_login(engine: Engine, device: str, password: str) -> tuple[str, str]:
    """The `database.url` (no password in it) and the `~/.pgpass` line for `device`."""
    url = engine.url.set(username=role_of(device), password=None)
    host, port, name = url.host or "localhost", url.port or 5432, url.database or "*"
    pgpass = f"{host}:{port}:{name}:{role_of(device)}:{password}"
    return url.render_as_string(hide_password=False), pgpass
