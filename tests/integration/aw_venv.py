"""ActivityWatch's own storage code (aw-core from PyPI) in a venv of its own, for tests.

aw-core pins platformdirs 3 where presence needs 4, so it cannot go into presence's venv or
its `test` extra (benchmarks/activitywatch.py met the same). The venv is made once per machine
with this interpreter (in the temp dir, reused while its stamp matches REQUIREMENTS); without
it (no network to PyPI) the tests that need it are skipped, and fail under CI=true.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.integration.components import missing_component

# As benchmarks/activitywatch.py: peewee 3 (aw-core's bucket listing fails under peewee 4).
REQUIREMENTS = ["aw-core==0.5.18", "peewee==3.17.0"]
VENV = Path(tempfile.gettempdir()) / "presence-aw-core-venv"


def aw_python() -> Path:
    """The venv's interpreter, made and filled on first use."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed"
    wanted = " ".join(REQUIREMENTS)
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        subprocess.run([str(python), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True,
                       capture_output=True, timeout=600)  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        output = getattr(exc, "stderr", b"") or b""
        missing_component(
            "aw-core (ActivityWatch's storage) in its own venv",
            f"`pip install {wanted}` failed ({output.decode(errors='replace')[-300:]}); "
            "it needs PyPI",
        )
    stamp.write_text(wanted)
    return python
