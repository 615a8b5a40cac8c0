"""The generated references in docs/ are in step with the code (`make docs` regenerates them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from presence.settings.reference import reference

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_configuration_reference_is_current() -> None:
    assert (DOCS / "configuration.md").read_text() == reference(), "run `make docs`"


def test_cli_reference_is_current(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    typer = Path(sys.executable).with_name("typer")
    subprocess.run(
        [
            str(typer),
            "presence.cli.app",
            "utils",
            "docs",
            "--name",
            "presence",
            "--title",
            "CLI reference",
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert (DOCS / "cli.md").read_text() == out.read_text(), "run `make docs`"
