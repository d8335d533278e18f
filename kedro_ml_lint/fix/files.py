"""Atomic file writes: the new content appears all at once, or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

DEFAULT_MODE = 0o666


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path``'s content with ``data`` atomically.

    The bytes go to a temporary file in the same folder (same file system), are flushed to
    disk, get the original's permissions, and ``os.replace`` swaps them in. On any failure
    the temporary file is removed and the original is left exactly as it was. A symlink is
    followed: its target is written, the link is kept.

    Args:
        path: The file to write; created (with its parent folders) when missing.
        data: The complete new content.

    Raises:
        OSError: When the file cannot be written; the original is intact.
    """
    target = path.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = target.stat().st_mode & 0o7777 if target.exists() else _default_mode()
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _default_mode() -> int:
    """What ``open()`` would give a new file: 0o666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return DEFAULT_MODE & ~umask
