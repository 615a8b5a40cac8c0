"""A bounded, seeded fuzz of every command that takes a value (issue 11): documented exit
statuses only, never an internal error, and a refused command leaves the database as it was.
The longer run, with every known extreme for every command, is `make bench`
(benchmarks/cli_fuzz.py)."""

from __future__ import annotations

from tests.unit import cli_fuzz


def test_every_command_answers_generated_values_with_a_documented_status() -> None:
    counts = cli_fuzz.run(examples=5, seed=11)
    assert counts["cases"] >= 5 * len(cli_fuzz.COMMANDS)
    # both sides were reached: values taken and values refused with exit 7
    assert counts.get("exit_7", 0) > 0 and counts.get("exit_0", 0) > 0
