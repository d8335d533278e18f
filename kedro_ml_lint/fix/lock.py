"""One ``--fix`` at a time per project: an advisory lock shared by every writer."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kedro_ml_lint.errors import KedroMlLintError

LOCK_FOLDER = ".kedro-ml-lint"
LOCK_FILE = "fix.lock"
# The folder ignores itself, like ``.pytest_cache``: the lock never shows up in ``git status``.
GITIGNORE = "# Created by kedro-ml-lint --fix to serialise writers.\n*\n"


class FixLockError(KedroMlLintError):
    """Raised when the fix lock cannot be created; nothing has been written."""


@contextmanager
def fix_lock(project_root: Path) -> Iterator[None]:
    """Hold the project's fix lock: concurrent ``--fix`` runs wait for each other.

    The lock is ``fcntl.flock`` on ``<project>/.kedro-ml-lint/fix.lock``: released by the
    kernel when the process dies, so a killed run never leaves the project locked.

    Args:
        project_root: The project root.

    Raises:
        FixLockError: When the lock file cannot be created.
    """
    folder = project_root / LOCK_FOLDER
    try:
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text(GITIGNORE, encoding="utf-8")
        descriptor = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise FixLockError(
            f"cannot create the lock that serialises --fix runs: {exc.strerror or exc}; "
            "nothing was written",
            f"{LOCK_FOLDER}/{LOCK_FILE}",
        ) from exc
    try:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
