"""The whole `presence` command: every group registered on the root app.

`make docs` generates docs/cli.md from this module's `app`.
"""

from __future__ import annotations

from presence.cli import (
    categories,
    config_cmd,
    data,
    devices,
    doctor,
    export,
    household,
    import_cmd,
    override,
    pause,
    report,
    rules,
    run,
    service,
    setup,
    status,
    zones,
)
from presence.cli.root import new_app

app = new_app()
run.register(app)  # run's own path never imports Typer (cli/run.py), so it registers itself
# Top-level commands come from Typer apps added without a name; groups have one. The order
# here is the order of `presence --help` and docs/cli.md.
app.add_typer(status.app)
app.add_typer(report.app)
app.add_typer(pause.app)
app.add_typer(doctor.app)
app.add_typer(override.app)
app.add_typer(export.app)
app.add_typer(config_cmd.app, name="config")
app.add_typer(categories.app, name="categories")
app.add_typer(service.app, name="service")
app.add_typer(setup.app, name="setup")
app.add_typer(data.app, name="data")
app.add_typer(import_cmd.app, name="import")
app.add_typer(rules.app, name="rules")
app.add_typer(devices.app, name="devices")
app.add_typer(zones.app, name="zones")
app.add_typer(household.app, name="household")
