"""One ``--fix`` at a time per project: an advisory lock shared by every writer.

The lock lives in the user's runtime folder (``$XDG_RUNTIME_DIR/kedro-ml-lint``; the user
cache folder where there is none), keyed by the project's real path: a fix writes the
files it fixes and nothing else in the project.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kedro_ml_lint.errors import KedroMlLintError
from kedro_ml_lint.files import hold_lock, user_runtime_dir


class FixLockError(KedroMlLintError):
    """Raised when the fix lock cannot be created; nothing has been written."""


def fix_lock_path(project_root: Path) -> Path:
    """The lock file of the project at ``project_root`` (by its real path)."""
    real = os.path.realpath(project_root)
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:24]
    return user_runtime_dir() / f"fix-{digest}.lock"


@contextmanager
def fix_lock(project_root: Path) -> Iterator[None]:
    """Hold the project's fix lock: concurrent ``--fix`` runs wait for each other.

    The lock is a ``filelock.FileLock`` (``flock`` on POSIX, ``msvcrt`` on Windows) on
    :func:`fix_lock_path`: released by the kernel when the process dies, so a killed run
    never leaves the project locked.

    Args:
        project_root: The project root.

    Raises:
        FixLockError: When the lock file cannot be created.
    """
    path = fix_lock_path(project_root)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = hold_lock(path)
    except OSError as exc:
        raise FixLockError(
            f"cannot create the lock that serialises --fix runs: {exc.strerror or exc}; "
            "nothing was written",
            str(path),
        ) from exc
    try:
        yield
    finally:
        lock.release()
