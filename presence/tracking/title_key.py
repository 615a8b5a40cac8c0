"""The device-local key behind `privacy.titles = "redacted"` title hashes.

Kept in the data directory (0600), created on first use: without it the hashes cannot be
matched against guessed titles.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "title.key"


def title_key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key
