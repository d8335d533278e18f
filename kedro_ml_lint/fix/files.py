"""Atomic file writes: the new content appears all at once, or not at all."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

DEFAULT_MODE = 0o666


class ReadOnlyFileError(PermissionError):
    """The file's mode has no owner-write bit: its owner cannot write it, so neither may we."""


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path``'s content with ``data`` atomically.

    The bytes go to a temporary file in the same folder (same file system), are flushed to
    disk, get the original's owner, group and permissions, and ``os.replace`` swaps them in.
    On any failure the temporary file is removed and the original is left exactly as it
    was. A symlink is followed: its target is written, the link is kept.

    Args:
        path: The file to write; created (with its parent folders) when missing.
        data: The complete new content.

    Raises:
        ReadOnlyFileError: When the file's owner has no write permission on it (root
            included: a read-only file is a decision, not an obstacle).
        OSError: When the file cannot be written, or its owner cannot be kept; the original
            is intact.
    """
    target = path.resolve()
    original = target.stat() if target.exists() else None
    if original is not None and not original.st_mode & stat.S_IWUSR:
        raise ReadOnlyFileError(
            f"the file is read-only (mode {stat.S_IMODE(original.st_mode):04o}); give its "
            "owner write permission (chmod u+w) to let --fix change it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(original.st_mode) if original is not None else _default_mode()
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if original is not None and _owner(original) != _owner(os.stat(temporary)):
            # The replacement would otherwise belong to whoever runs --fix (root, in CI).
            os.chown(temporary, original.st_uid, original.st_gid)
        # After chown, which clears set-id bits.
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _owner(status: os.stat_result) -> tuple[int, int]:
    return status.st_uid, status.st_gid


def _default_mode() -> int:
    """What ``open()`` would give a new file: 0o666 minus the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return DEFAULT_MODE & ~umask
