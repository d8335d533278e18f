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

APP_NAME = "kedro-ml-lint"


class FixLockError(KedroMlLintError):
    """Raised when the fix lock cannot be created; nothing has been written."""


def user_lock_folder() -> Path:
    """Where this user's locks live: the runtime folder, else the cache folder.

    ``platformdirs.user_runtime_path`` names ``/run/user/<uid>`` on Linux even where no
    login session made it (a container, a cron job): then the user cache folder is used,
    never a system folder created on the user's behalf.
    """
    import warnings

    import platformdirs

    # platformdirs warns when XDG_RUNTIME_DIR is unset or not a private folder (then falls
    # back to a folder of its own), and raises when even that is unsafe.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            runtime: Path | None = platformdirs.user_runtime_path(APP_NAME)
        except OSError:
            runtime = None
    if runtime is not None and runtime.parent.is_dir() and os.access(runtime.parent, os.W_OK):
        return runtime
    return platformdirs.user_cache_path(APP_NAME) / "locks"


def fix_lock_path(project_root: Path) -> Path:
    """The lock file of the project at ``project_root`` (by its real path)."""
    real = os.path.realpath(project_root)
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:24]
    return user_lock_folder() / f"fix-{digest}.lock"


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
    from filelock import FileLock

    path = fix_lock_path(project_root)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = FileLock(path)
        lock.acquire()
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
