"""KWin (KDE Plasma) through its scripting interface: scripts presence loads over D-Bus, and the
D-Bus receiver their `callDBus()` calls reach. The JavaScript files here are package data."""
