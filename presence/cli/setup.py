"""`presence setup gnome`: what a desktop needs before presence can see it."""

from __future__ import annotations

import typer

from presence.install import gnome

app = typer.Typer(
    help="Prepare your desktop for presence (GNOME needs presence's shell extension).",
    no_args_is_help=True,
)


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
