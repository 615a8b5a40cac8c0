"""Adherence per person (issue 12): with `report --person`, a shared rule's outcomes, snoozes
and streak count only what happened while those people ran the device's daemon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from presence.reports.adherence import adherence
from presence.store import RuleStore, Store
from presence.store.household import HouseholdStore
from presence.store.reporting import ReportQueries

T0 = datetime(2026, 6, 1, 18, tzinfo=UTC)


def test_a_shared_pc_reports_each_persons_adherence(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'p.db'}")
    pc = store.device("family-pc", "h", T0)
    rules = RuleStore(store)
    people = HouseholdStore(store.engine)
    # ana runs the PC on the 1st, ben on the 2nd; one shared evening rule each day
    for day, person, outcome in ((0, "ana", "kept"), (1, "ben", "broken")):
        start = T0 + timedelta(days=day)
        run = store.start_run(pc.id, 10 + day, "t", start)
        people.register(pc.id, "linux", run, person, start)
        occurrence = (start + timedelta(hours=1), start + timedelta(hours=3))
        if person == "ben":
            rules.log(
                start + timedelta(hours=2),
                "evenings",
                "snooze",
                occurrence=occurrence,
                device_id=pc.id,
            )
        rules.log(
            start + timedelta(hours=3), "evenings", outcome, occurrence=occurrence, device_id=pc.id
        )
        store.end_run(run, start + timedelta(hours=4), "stopped")
    week = (T0 - timedelta(days=1), T0 + timedelta(days=6))

    def of(who: list[str] | None) -> tuple[int, int, int, int]:
        found = adherence(ReportQueries.of(store, who), *week, [pc.id])
        (rule,) = found.rules
        return rule.occurrences, rule.kept, rule.broken, rule.snoozes

    assert of(None) == (2, 1, 1, 1)  # everyone
    assert of(["ana"]) == (1, 1, 0, 0)
    assert of(["ben"]) == (1, 0, 1, 1)
    assert of(["ana", "ben"]) == of(None)
    store.close()
