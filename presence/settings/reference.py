"""The configuration reference (docs/configuration.md), generated from the settings model."""

from __future__ import annotations

import json
import socket

import msgspec

from presence.settings.schema import DURATION, SECTIONS, field_meta

HEADER = """# Configuration reference

<!-- Generated from presence/settings/schema.py by `make docs`; a unit test keeps it in step. -->

presence reads `$XDG_CONFIG_HOME/presence/config.toml` (usually `~/.config/presence/config.toml`);
`--config FILE` or `PRESENCE_CONFIG=FILE` point it elsewhere. Every key is optional: with no
file at all the defaults below apply. An unknown key or a bad value is an error that names the
file and the key (`presence config check` tells without starting anything). Durations accept
seconds (`90`) or units (`90s`, `5m`, `1h30m`). `presence config show` prints the settings in
force.

Environment: `PRESENCE_CONFIG` (settings file), `PRESENCE_DATA_DIR` (database and key file,
default `$XDG_DATA_HOME/presence`), `PRESENCE_BACKEND_<CAPABILITY>` (force a backend, e.g.
`PRESENCE_BACKEND_WINDOW=x11`, or `none`), `PRESENCE_DEBUG=1` (tracebacks and DEBUG logs).
"""


def _default(field: msgspec.structs.FieldInfo) -> str:
    if field.default_factory is not msgspec.NODEFAULT:
        if field.default_factory is socket.gethostname:
            return "the host name"
        value = field.default_factory()
    else:
        value = field.default
    return json.dumps(msgspec.to_builtins(value))


def _constraints(meta: msgspec.Meta | None) -> str:
    if meta is None:
        return ""
    parts = []
    for name, symbol in (("ge", ">="), ("le", "<="), ("gt", ">"), ("lt", "<")):
        bound = getattr(meta, name, None)
        if bound is not None:
            parts.append(f"{symbol} {bound:g}")
    if meta.extra == DURATION:
        parts.append("a duration")
    return ", ".join(parts)


def reference() -> str:
    """The whole document, deterministic (host names and the like are not baked in)."""
    lines = [HEADER]
    for section_name, section in SECTIONS.items():
        lines.append(f"## [{section_name}]\n")
        if section.__doc__:
            lines.append(section.__doc__.strip() + "\n")
        lines.append("| key | default | allowed | meaning |")
        lines.append("| --- | --- | --- | --- |")
        metas = field_meta(section)
        for field in msgspec.structs.fields(section):
            meta = metas.get(field.name)
            allowed = _constraints(meta)
            meaning = (meta.description if meta is not None else None) or ""
            lines.append(f"| `{field.name}` | `{_default(field)}` | {allowed or ' '} | {meaning} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference(), end="")
