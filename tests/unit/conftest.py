"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty XDG config, data and runtime dirs under `tmp_path`; presence's own overrides unset."""
    for var, sub in (
        ("XDG_CONFIG_HOME", "cfg"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_RUNTIME_DIR", "run"),
    ):
        (tmp_path / sub).mkdir(mode=0o700)
        monkeypatch.setenv(var, str(tmp_path / sub))
    for var in ("PRESENCE_CONFIG", "PRESENCE_DATA_DIR", "PRESENCE_DEBUG"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path
