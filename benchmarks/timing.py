"""Timing one command as a child process: wall seconds and the child's peak RSS."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence


def timed(argv: Sequence[str], env: Mapping[str, str]) -> tuple[float, float]:
    """Run `argv` to completion; (wall seconds, peak RSS in MB from wait4).

    Raises RuntimeError with the child's stderr when it exits non-zero."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv), env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    assert process.stderr is not None
    errors = process.stderr.read()
    process.stderr.close()
    process.returncode = 0  # reaped by wait4 above
    if status != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {errors.decode(errors='replace')[-400:]}")
    return wall, usage.ru_maxrss / 1024
