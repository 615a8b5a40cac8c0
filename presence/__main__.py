"""`python -m presence` runs the CLI."""

from presence.cli import main

main()
