"""The services behind `presence rules ...`: add, edit, remove, enable, disable, list, show,
export, import and the upcoming occurrences. Loosening changes wait for the cooldown
(`cooldown.plan_change`); everything else applies at once. The daemon notices any change
within one tick (it watches the rules table).

The cooldown is the rule set's (`rulebook.policy`, in the database): the `cooldown` these
functions take is only the settings file's value, which a rule set without a policy starts
with (issue 10: no device's file can loosen the shared rules).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

import tomli_w

from presence.core.errors import InputError
from presence.rulebook.policy import defaults_from, rule_policy
from presence.rules.bounds import check_new
from presence.rules.cooldown import Change, loosening, plan_change
from presence.rules.model import (
    Rule,
    RuleKind,
    file_label,
    parse_kind,
    parse_name,
    parse_rule,
)
from presence.rules.policy import BUILT_IN, RulePolicy
from presence.rules.schedule import Occurrence, upcoming
from presence.store import RuleStore, StoredRule


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule as in force, with its pending change (if any) and why it waits."""

    rule: Rule
    stored: StoredRule
    pending: Rule | None
    pending_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a change did: `change.immediate`, or when it takes effect and why it waits."""

    name: str
    verb: str  # added, changed, removed, enabled, disabled, unchanged
    change: Change
    cooldown: float = 0.0  # the rule set's, which a loosening change waited for


def to_rule(stored: StoredRule, fields: Mapping[str, Any] | None = None) -> Rule:
    """The Rule a row describes (its pending fields, when given). Raises InputError for a row
    that no longer validates (written by a newer presence, or by hand)."""
    rule = parse_rule(
        stored.name, stored.kind, fields or stored.fields, file_label("database", stored.name)
    )
    return replace(rule, enabled=stored.enabled)


def view(stored: StoredRule) -> RuleView:
    rule = to_rule(stored)
    if stored.pending_delete:
        return RuleView(rule, stored, None, ("removed",))
    if not stored.pending:
        return RuleView(rule, stored, None)
    pending = to_rule(stored, stored.pending_fields)
    if stored.pending_enabled is not None:
        pending = replace(pending, enabled=stored.pending_enabled)
    return RuleView(rule, stored, pending, tuple(loosening(rule, pending)))


def _existing(store: RuleStore, name: str) -> StoredRule:
    stored = store.rule(name)
    if stored is None:
        raise InputError(f"no rule named {name!r}", hint="`presence rules list` shows the rules")
    return stored


def list_rules(store: RuleStore, now: datetime) -> list[RuleView]:
    """Every rule, after carrying out the pending changes that are due."""
    store.apply_due(now)
    return [view(s) for s in store.rules()]


def show_rule(store: RuleStore, name: str, now: datetime) -> RuleView:
    store.apply_due(now)
    return view(_existing(store, name))


def add_rule(
    store: RuleStore,
    rule: Rule,
    now: datetime,
    *,
    today: date | None = None,
    defaults: RulePolicy = BUILT_IN,
) -> Outcome:
    """Add a new rule (always immediate: a new rule only tightens). Raises InputError when
    the name is taken or the rule fails `check_new` (a one-off date before `today`, ...).
    A rule set without a policy takes `defaults` now (the settings file's values)."""
    check_new(rule, today)
    rule_policy(store, now, defaults)
    store.apply_due(now)
    if store.rule(rule.name) is not None:
        raise InputError(
            f"a rule named {rule.name!r} exists already",
            hint=f"change it with `presence rules edit {rule.name}`, or choose another name",
        )
    store.add_rule(rule.name, rule.kind.value, rule.fields(), rule.enabled, now)
    return Outcome(rule.name, "added", Change((), now))


def _apply(
    store: RuleStore, old: Rule, new: Rule | None, now: datetime, cooldown: float, verb: str
) -> Outcome:
    cooldown = rule_policy(store, now, defaults_from(cooldown)).cooldown
    change = plan_change(old, new, now, cooldown)
    if new is None:
        if change.immediate:
            store.delete_rule(old.name)
        else:
            store.set_pending(
                old.name, fields=None, enabled=None, remove=True, at=change.effective, now=now
            )
        return Outcome(old.name, verb, change, cooldown)
    if new == old:
        store.cancel_pending(old.name, now)  # asking for the rule as it is drops a pending change
        return Outcome(old.name, "unchanged", change, cooldown)
    if change.immediate:
        store.replace_rule(new.name, new.fields(), new.enabled, now)
    else:
        store.set_pending(
            new.name,
            fields=new.fields(),
            enabled=new.enabled,
            remove=False,
            at=change.effective,
            now=now,
        )
    return Outcome(new.name, verb, change, cooldown)


def edit_rule(
    store: RuleStore,
    name: str,
    changes: Mapping[str, Any],
    now: datetime,
    cooldown: float,
    *,
    today: date | None = None,
) -> Outcome:
    """Change some fields of a rule (a loosening waits `cooldown` seconds). `changes` maps
    field names to CLI values; `days` replaces `on` and the other way round. The new rule
    must pass `check_new` (its date against `today` only when `on` changes)."""
    store.apply_due(now)
    stored = _existing(store, name)
    old = to_rule(stored)
    fields = dict(stored.fields)
    for key, value in changes.items():
        if value is None:
            continue
        fields[key] = value
        if key == "days":
            fields.pop("on", None)
        elif key == "on":
            fields.pop("days", None)
    new = replace(parse_rule(name, old.kind, fields), enabled=old.enabled)
    check_new(new, today if changes.get("on") is not None else None)
    return _apply(store, old, new, now, cooldown, "changed")


def remove_rule(store: RuleStore, name: str, now: datetime, cooldown: float) -> Outcome:
    store.apply_due(now)
    old = to_rule(_existing(store, name))
    return _apply(store, old, None, now, cooldown, "removed")


def set_enabled(
    store: RuleStore, name: str, enabled: bool, now: datetime, cooldown: float
) -> Outcome:
    store.apply_due(now)
    old = to_rule(_existing(store, name))
    verb = "enabled" if enabled else "disabled"
    return _apply(store, old, replace(old, enabled=enabled), now, cooldown, verb)


# -- TOML -------------------------------------------------------------------------------------


def export_rules(store: RuleStore, now: datetime) -> str:
    """Every rule as in force now, as a TOML document `import` reads back."""
    tables = []
    for item in list_rules(store, now):
        tables.append({"name": item.rule.name, "kind": item.rule.kind.value, **item.rule.fields()})
    header = "# presence rules (`presence rules import FILE` reads this back)\n"
    return header + tomli_w.dumps({"rules": tables})


def parse_rules_file(text: str, source: str, device: str = "laptop") -> list[Rule]:
    """Validate a TOML document of `[[rules]]` tables (`device` is read as `devices`).
    Raises InputError naming the file, the rule and the key; hints name `device` (this
    device) as the example."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}", hint="see https://toml.io") from None
    tables = data.get("rules", [])
    unknown = sorted(set(data) - {"rules"})
    if unknown or not isinstance(tables, list):
        raise InputError(
            f"{source}: expected only [[rules]] tables (found {', '.join(unknown) or 'rules'})",
            hint="`presence rules export` shows the format",
        )
    rules: list[Rule] = []
    for index, table in enumerate(tables, 1):
        if not isinstance(table, dict) or "name" not in table or "kind" not in table:
            raise InputError(
                f"{source}: rule #{index} needs a name and a kind",
                hint='e.g. name = "evening" and kind = "tech-free"',
            )
        name = parse_name(str(table["name"]), f"{source}: rule #{index}: name")
        kind = parse_kind(str(table["kind"]), f"{source}: rule {name!r}: kind")
        fields = {k: v for k, v in table.items() if k not in ("name", "kind")}
        if "device" in fields and "devices" not in fields:
            # the CLI's option is --device: take the singular key for what it obviously means
            one = fields.pop("device")
            fields["devices"] = one if isinstance(one, list) else [one]
        if name in {r.name for r in rules}:
            raise InputError(f"{source}: rule {name!r} appears twice", hint="names are unique")
        rules.append(parse_rule(name, kind, fields, file_label(source, name), device=device))
    return rules


def import_rules(
    store: RuleStore,
    rules: Sequence[Rule],
    now: datetime,
    cooldown: float,
    *,
    replace_all: bool = False,
    today: date | None = None,
    source: str = "the file",
) -> list[Outcome]:
    """Add the new rules and change the existing ones (loosening waits); with
    `replace_all`, remove the rules the file does not list. Every rule must pass
    `check_new` (a one-off date against `today` when the rule is new or its date changes)
    before anything is written."""
    store.apply_due(now)
    current = {s.name: s for s in store.rules()}
    for rule in rules:
        stored = current.get(rule.name)
        moved = stored is None or to_rule(stored).on != rule.on
        check_new(rule, today if moved else None, file_label(source, rule.name))
    outcomes = []
    for rule in rules:
        stored = current.get(rule.name)
        if stored is None:
            outcomes.append(add_rule(store, rule, now, defaults=defaults_from(cooldown)))
            continue
        old = to_rule(stored)
        if old.kind is not rule.kind:
            raise InputError(
                f"rule {rule.name!r} is {old.kind.value} here but {rule.kind.value} in the file",
                hint="remove it first, or rename it in the file",
            )
        outcomes.append(_apply(store, old, rule, now, cooldown, "changed"))
    if replace_all:
        listed = {r.name for r in rules}
        for name, stored in current.items():
            if name not in listed:
                outcomes.append(_apply(store, to_rule(stored), None, now, cooldown, "removed"))
    return outcomes


# -- what comes next --------------------------------------------------------------------------


def next_occurrences(
    store: RuleStore,
    zone: tzinfo,
    now: datetime,
    device: str,
    *,
    count: int = 10,
    within: timedelta = timedelta(days=14),
) -> list[tuple[Rule, Occurrence]]:
    """The next `count` occurrences of this device's enabled scheduled rules (one in
    progress included), soonest first. Limits and breaks depend on use: not listed."""
    found: list[tuple[Rule, Occurrence]] = []
    for item in list_rules(store, now):
        rule = item.rule
        if rule.enabled and rule.applies_to(device) and rule.kind is not RuleKind.LIMIT:
            found += [(rule, occ) for occ in upcoming(rule, zone, now, within=within)]
    found.sort(key=lambda pair: (pair[1].start, pair[0].name))
    return found[:count]
