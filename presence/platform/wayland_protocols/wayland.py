"""The core Wayland interfaces the generated modules here import as `.wayland`: pywayland's own.

The scanner writes `from .wayland import WlSeat` into every module it generates; re-exporting
pywayland's classes keeps one definition of each core interface in the process.
"""

from pywayland.protocol.wayland import (
    WlOutput,
    WlOutputProxy,
    WlSeat,
    WlSeatProxy,
    WlSurface,
    WlSurfaceProxy,
)

__all__ = ["WlOutput", "WlOutputProxy", "WlSeat", "WlSeatProxy", "WlSurface", "WlSurfaceProxy"]
