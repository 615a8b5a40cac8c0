"""Finding the real components integration tests need; missing ones skip, or fail under CI."""

from __future__ import annotations

import os
import shutil

import pytest

# binary -> the Debian package that provides it (tests/system-packages.txt lists them all)
PACKAGE_OF = {
    "Xvfb": "xvfb",
    "openbox": "openbox",
    "xdotool": "xdotool",
    "xterm": "xterm",
    "wish": "tk",
    "xprop": "x11-utils",
    "dbus-daemon": "dbus-daemon",
    "dbus-monitor": "dbus-bin",
    "dbus-send": "dbus-bin",
    "dunst": "dunst",
    "dunstctl": "dunst",
    "notify-send": "libnotify-bin",
    "systemd-analyze": "systemd",
    "chromium": "chromium",
    "desktop-file-validate": "desktop-file-utils",
    "kwin_wayland": "kwin-wayland",
    "weston-terminal": "weston",
    "gtk3-demo": "gtk-3-examples",
    "Xwayland": "xwayland",
    "sway": "sway",
    "swaymsg": "sway",
    "foot": "foot",
    "wtype": "wtype",
    "swaylock": "swaylock",
    "waybar": "waybar",
    "grim": "grim",
    "gnome-shell": "gnome-shell",
    "gsettings": "libglib2.0-bin",
    "gjs": "gjs",
    "node": "nodejs",
    "initdb": "postgresql",  # in /usr/lib/postgresql/N/bin, off PATH: see postgres.py
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing_component(what: str, fix: str) -> None:
    """Skip the test, or fail it under CI=true, where `make test` should have installed it."""
    message = f"{what} is missing: {fix}"
    if in_ci():
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def require(*binaries: str) -> None:
    """Skip (or fail under CI) unless every binary is on PATH."""
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        packages = sorted({PACKAGE_OF.get(b, b) for b in missing})
        missing_component(
            ", ".join(missing),
            f"install with `sudo apt-get install {' '.join(packages)}` "
            "(or run `make test` as root)",
        )
