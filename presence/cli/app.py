"""The whole `presence` command: every group registered on the root app.

`make docs` generates docs/cli.md from this module's `app`.
"""

from __future__ import annotations

from presence.cli import (
    categories,
    config_cmd,
    data,
    doctor,
    override,
    pause,
    report,
    rules,
    run,
    service,
    status,
)
from presence.cli.root import new_app

app = new_app()
run.register(app)
status.register(app)
report.register(app)
pause.register(app)
doctor.register(app)
app.add_typer(config_cmd.app, name="config")
app.add_typer(categories.app, name="categories")
app.add_typer(service.app, name="service")
app.add_typer(data.app, name="data")
app.add_typer(rules.app, name="rules")
override.register(app)
