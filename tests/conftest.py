"""Shared pytest setup: the CI guard against skips, and the integration harness plugins."""

pytest_plugins = [
    "tests.ci_guard",
    "tests.integration.sessionbus",
    "tests.integration.xserver",
    "tests.integration.desktop_user",
    "tests.integration.wayland_sway",
    "tests.integration.wayland_kwin",
    "tests.integration.wayland_gnome",
    "tests.integration.postgres",
]
