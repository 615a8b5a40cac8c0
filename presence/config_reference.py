"""The configuration reference (docs/configuration.md), generated from the settings model."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from presence.config import Settings

HEADER = """# Configuration reference

<!-- Generated from presence/config.py by `make docs`; a unit test keeps it in step. -->

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


def _default(field: Any) -> str:
    if field.default_factory is not None:
        value = field.default_factory()
        if callable(getattr(value, "model_dump", None)):
            return "-"
        if isinstance(value, str) and value:
            return "the host name" if field.default_factory.__name__ == "gethostname" else value
    else:
        value = field.default
    if hasattr(value, "value"):
        value = value.value
    return json.dumps(value)


def _constraints(field: Any) -> str:
    parts = []
    for item in field.metadata:
        for name, symbol in (("ge", ">="), ("le", "<="), ("gt", ">"), ("lt", "<")):
            bound = getattr(item, name, None)
            if bound is not None:
                parts.append(f"{symbol} {bound:g}")
    return ", ".join(parts)


def reference() -> str:
    """The whole document, deterministic (host names and the like are not baked in)."""
    lines = [HEADER]
    for section_name, section in Settings.model_fields.items():
        model = section.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        lines.append(f"## [{section_name}]\n")
        if model.__doc__:
            lines.append(model.__doc__.strip() + "\n")
        lines.append("| key | default | allowed | meaning |")
        lines.append("| --- | --- | --- | --- |")
        for key, field in model.model_fields.items():
            allowed = _constraints(field)
            lines.append(
                f"| `{key}` | `{_default(field)}` | {allowed or ' '} | {field.description or ''} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference(), end="")
