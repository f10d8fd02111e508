"""The generated ``SECRET_KEY`` of an installation that did not set one (development, the embedded default).

No key committed to the repository may ever sign anything: anyone could forge tokens with it. So when
``SECRET_KEY`` is unset, the first process to start generates a random key and keeps it in a file (ignored by
git, mode 0600); every later process of the installation (uvicorn workers, ``rundramatiq`` processes, tests,
``manage.py``) reads the same file, so tokens and signed URLs made by one are valid in the others.

Creation is atomic even when several processes start at once: the key is written completely to a private
temporary file, which is then hard-linked to the final name. ``link`` fails if the name exists (like
``O_EXCL``), so exactly one process wins; the others (and the winner) then read the file that won, which is
never seen half-written.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

MIN_LENGTH = 50


def load_or_create(path: Path) -> str:
    """The key stored at ``path``, created with a fresh random key if the file does not exist yet."""
    key = _read(path)
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(MIN_LENGTH) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: its key is the key
    finally:
        temporary.unlink(missing_ok=True)
    key = _read(path)
    if not key:
        raise RuntimeError(f"The generated secret key file {path} is empty; delete it and start again.")
    return key


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
