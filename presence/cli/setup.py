"""`presence setup gnome` and `presence setup browser`: what a desktop needs before presence
can see it."""

from __future__ import annotations

import typer

from presence.cli.context import AppContext
from presence.install import browser, gnome

app = typer.Typer(
    help="Prepare your desktop for presence (GNOME needs presence's shell extension).",
    no_args_is_help=True,
)


@app.command("browser")
def setup_browser(ctx: typer.Context) -> None:
    """Install the browser extension's native host for each browser found (Chromium, Chrome,
    Brave, Firefox) and copy the extension where you can load it. Running it again is
    harmless."""
    context: AppContext = ctx.obj
    report = browser.setup(context.paths.data_dir)
    for item in report.installed:
        state = "Installed" if item.changed else "Already installed:"
        typer.echo(f"{state} the native host for {item.browser.label} in {item.manifest}.")
    labels = {item.browser.family for item in report.installed}
    typer.echo("Then add the extension (once per browser profile):")
    if "chromium" in labels:
        typer.echo(
            "  Chromium, Chrome, Brave: open chrome://extensions, switch on Developer mode, "
            f"press Load unpacked and choose {report.chromium_extension}"
        )
    if "firefox" in labels:
        typer.echo(
            "  Firefox: open about:debugging#/runtime/this-firefox, press Load Temporary "
            f"Add-on and choose {report.firefox_extension / 'manifest.json'} (temporary add-ons "
            "last until Firefox restarts)"
        )
    typer.echo("`presence doctor` shows when each browser's extension last reported.")


@app.command("gnome")
def setup_gnome() -> None:
    """Install and enable presence's GNOME Shell extension for you (the format of your GNOME
    version). GNOME finds new extensions at your next login. Running it again is harmless."""
    report = gnome.setup()
    state = "Installed" if report.files_changed else "Already installed:"
    typer.echo(
        f"{state} presence's GNOME Shell extension for GNOME Shell {report.shell} "
        f"({'ES module' if report.format == 'esm' else 'GNOME 43-44'} format) in {report.path}."
    )
    if report.enabled.newly_enabled:
        typer.echo("Enabled it in org.gnome.shell enabled-extensions (other extensions kept).")
    else:
        typer.echo("It was already enabled.")
    if report.enabled.user_extensions_disabled:
        typer.echo(
            "Note: all user extensions are switched off (org.gnome.shell "
            "disable-user-extensions); turn them on in the Extensions app, or run "
            "`gsettings set org.gnome.shell disable-user-extensions false`."
        )
    if report.files_changed or report.enabled.newly_enabled:
        typer.echo(
            "GNOME finds new extensions only when the shell starts: log out and log in again "
            "(on X11 you can instead press Alt+F2, type r and press Enter). Then "
            "`presence doctor` should show the gnome window backend."
        )
