"""Shared pytest setup: the integration harness plugins."""

pytest_plugins = [
    "tests.integration.sessionbus",
    "tests.integration.xserver",
    "tests.integration.desktop_user",
    "tests.integration.wayland_sway",
    "tests.integration.wayland_kwin",
]
