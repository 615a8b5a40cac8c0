"""presence: a local-first screen-time monitor and digital-wellbeing daemon."""

__version__ = "0.1.0"
