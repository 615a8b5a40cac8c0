"""Python bindings for Wayland protocols pywayland does not ship, generated and committed here so
users need no build step.

- `idle.py`: KDE's `org_kde_kwin_idle` (KWin, and wlroots before 0.17, e.g. sway 1.7), from
  Debian's plasma-wayland-protocols `/usr/share/plasma-wayland-protocols/idle.xml`.
- `wlr_foreign_toplevel_management_unstable_v1.py`: `zwlr_foreign_toplevel_manager_v1`
  (wlroots compositors), from the wire description beside it
  (`wlr-foreign-toplevel-management-unstable-v1.xml`; Debian ships no copy of the XML).
- `wayland.py`: not generated; the generated modules import the core interfaces from it.

Regenerate (libwayland-dev provides wayland.xml; keep only the two protocol modules):

    python -m pywayland.scanner -o /tmp/wl \\
        -i /usr/share/plasma-wayland-protocols/idle.xml \\
           presence/platform/wayland_protocols/wlr-foreign-toplevel-management-unstable-v1.xml \\
           /usr/share/wayland/wayland.xml
    cp /tmp/wl/idle.py /tmp/wl/wlr_foreign_toplevel_management_unstable_v1.py \\
        presence/platform/wayland_protocols/

The generated modules keep their protocols' licence headers and are left out of ruff and mypy
(pyproject.toml): they are the scanner's output, not edited by hand.
"""
