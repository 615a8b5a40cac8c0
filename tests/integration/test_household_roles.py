"""Who may change what (issue 12), on a real PostgreSQL: `household init` makes an owner role
and device roles; a device records its own rows and reads the rules, and is refused changing a
rule, a zone or another device's data with a message naming what to do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presence.core.errors import StorageError
from presence.core.model import Span, SpanState
from presence.rulebook import household
from presence.store import RuleStore, Store
from presence.store.holder import RecorderLock
from tests.integration.postgres import PostgresServer
from tests.unit.conftest import private_home
from tests.unit.test_cli import cli

pytestmark = pytest.mark.integration
__all__ = ["private_home"]

T0 = datetime(2026, 6, 1, 8, tzinfo=UTC)
NIGHT = {"days": "daily", "start": "22:00", "end": "07:00", "zones": ["bedroom"]}


@pytest.fixture
def owner(pg_url: str, postgres_server: PostgresServer) -> Iterator[Store]:
    store = Store.open(pg_url)
    store.device("laptop", "h", T0)
    RuleStore(store).add_rule("bedroom-nights", "device-free", NIGHT, True, T0)
    household.init_household(store)
    household.init_household(store)  # idempotent: again after an upgrade
    try:
        yield store
    finally:
        store.close()
        # the device roles outlive the test database: drop them with it
        postgres_server.psql(
            "DO $$ DECLARE r text; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE rolname "
            "LIKE 'presence_device_%' OR rolname = 'ana' LOOP EXECUTE format("
            "'DROP OWNED BY %I CASCADE', r); EXECUTE format('DROP ROLE %I', r); END LOOP; END $$",
            database=pg_url.rsplit("/", 1)[1],
        )


def as_role(pg_url: str, role: str) -> str:
    base, database = pg_url.rsplit("/", 1)
    return base.replace("//presence@", f"//{role}@") + "/" + database


def test_a_device_records_its_own_rows_and_reads_the_rules(owner: Store, pg_url: str) -> None:
    login = household.add_device_login(owner, "tablet")
    assert login.role == "presence_device_tablet" and login.url.startswith("postgresql+psycopg://")
    assert login.pgpass.split(":")[3] == login.role and ":" not in login.pgpass.split(":")[4]
    device = Store.open(as_role(pg_url, login.role))
    try:
        me = device.device("tablet", "tablet-host", T0)
        run = device.start_run(me.id, 1, "t", T0)
        household.register(device, me.id, run, "ben", T0)
        device.save_spans(
            me.id, run, [Span(T0, T0 + timedelta(minutes=5), "a", None, SpanState.ACTIVE)]
        )
        held = RecorderLock(device.engine).take("tablet", 1, "tablet-host", T0)
        RecorderLock(device.engine).release(held)
        assert [r.name for r in RuleStore(device).rules()] == ["bedroom-nights"]
        RuleStore(device).fingerprint()
        laptop = owner.find_device("laptop")
        assert laptop is not None
        with pytest.raises(StorageError) as refused:
            device.save_spans(laptop.id, None, [Span(T0, T0, "x", None, SpanState.ACTIVE)])
        assert "refused" in refused.value.message and "owner" in (refused.value.hint or "")
        with pytest.raises(StorageError):
            household.set_zone(device, "tablet", "office")  # out of the bedroom: not its call
        with pytest.raises(StorageError):
            RuleStore(device).delete_rule("bedroom-nights")
    finally:
        device.close()
    assert [r.name for r in RuleStore(owner).rules()] == ["bedroom-nights"]


def test_rules_remove_from_a_device_role_is_a_clear_permission_error(
    owner: Store,
    pg_url: str,
    private_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login = household.add_device_login(owner, "tablet")
    config = private_home / "cfg" / "presence" / "config.toml"
    config.parent.mkdir()
    url = as_role(pg_url, login.role)
    config.write_text(f'[device]\nname = "tablet"\n[database]\nurl = "{url}"\n')
    code, out, err = cli(capsys, monkeypatch, "rules", "remove", "bedroom-nights")
    assert code != 0 and "Traceback" not in err
    assert "refused this change" in err and "household's owner" in err, err
    code, out, err = cli(capsys, monkeypatch, "rules", "list", "--json")
    assert code == 0 and "bedroom-nights" in out


def test_an_owner_role_may_change_rules(
    owner: Store, pg_url: str, postgres_server: PostgresServer
) -> None:
    postgres_server.psql("CREATE ROLE ana LOGIN")
    household.add_owner(owner, "ana")
    ana = Store.open(as_role(pg_url, "ana"))
    try:
        rules = RuleStore(ana)
        assert rules.delete_rule("bedroom-nights")
        household.set_zone(ana, "laptop", "office")
    finally:
        ana.close()
