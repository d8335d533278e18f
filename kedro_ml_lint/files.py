"""The files kedro-ml-lint writes for itself: atomic writes, locks, the user's cache folder.

- :func:`write_atomic`: new content appears all at once, or not at all (``--fix``'s catalog
  writes, the ``--log`` journal).
- :func:`hold_lock` / :func:`try_lock`: an inter-process lock (``filelock``: ``flock`` on
  POSIX, ``LockFileEx`` on Windows) that the kernel drops when its holder dies, so a lock
  that can be taken tells that its owner is gone.
- :func:`user_cache_dir`: the tool's folder in the user's cache, one rule for everyone who
  keeps something there (the cache key and import records, the ``--log`` journals).
- :func:`user_runtime_dir`: where this user's locks live (``--fix``'s), never in a project.

Standard library, ``filelock`` and ``platformdirs`` only, and nothing of ours: the cache
package, a leaf, uses it (docs/design.md §8). Each library is imported when first needed:
``filelock`` when a lock is taken (never by ``check``); ``platformdirs`` when the folder is
asked for, which a warm ``check`` does for its key (a few milliseconds: it imports
``tempfile``).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import BaseFileLock

DEFAULT_MODE = 0o666
APP_NAME = "kedro-ml-lint"
# The one override of where the tool keeps its user-level files (docs/design.md §5).
CACHE_DIR_ENV = "KEDRO_ML_LINT_CACHE_DIR"


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
    import tempfile  # here: the cache imports this module on the warm path

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


def hold_lock(path: Path, *, mode: int = 0o600) -> BaseFileLock:
    """Take the lock on ``path`` (created when missing), waiting for another holder.

    Args:
        path: The lock file; its folder must exist.
        mode: The permissions of a lock file created here.

    Returns:
        The held lock: ``release()`` it; the kernel releases it if the process dies first.
        Keep a reference: ``filelock`` releases a lock object that is garbage-collected.

    Raises:
        OSError: When the lock file cannot be created or locked.
    """
    from filelock import FileLock

    held = FileLock(path, mode=mode, thread_local=False)
    held.acquire()
    return held


def try_lock(path: Path, *, mode: int = 0o600) -> BaseFileLock | None:
    """Take the lock on ``path`` only if no one holds it: "is its owner still alive?".

    Args:
        path: The lock file; its folder must exist.
        mode: The permissions of a lock file created here.

    Returns:
        The held lock, or ``None`` when another process (or another lock object of this
        one) holds it.

    Raises:
        OSError: When the lock file cannot be opened.
    """
    from filelock import FileLock, Timeout

    held = FileLock(path, mode=mode, thread_local=False)
    try:
        held.acquire(timeout=0)
    except Timeout:
        return None
    return held


def user_cache_dir() -> Path:
    """The tool's folder in the user's cache, absolute; not created here.

    ``KEDRO_ML_LINT_CACHE_DIR`` when set (the folder itself), else ``platformdirs``' user
    cache folder for ``kedro-ml-lint``: ``$XDG_CACHE_HOME/kedro-ml-lint``, else
    ``~/.cache/kedro-ml-lint`` on Linux; the platform's own elsewhere.
    """
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(os.path.abspath(override))
    from platformdirs import user_cache_path

    return Path(os.path.abspath(user_cache_path(APP_NAME, appauthor=False)))


def user_runtime_dir() -> Path:
    """Where this user's locks live: the runtime folder, else ``locks/`` of the cache folder.

    ``platformdirs.user_runtime_path`` names ``/run/user/<uid>`` on Linux even where no
    login session made it (a container, a cron job): then the user cache folder is used,
    never a system folder created on the user's behalf. Not created here.
    """
    import warnings

    import platformdirs

    # platformdirs warns when XDG_RUNTIME_DIR is unset or not a private folder (then falls
    # back to a folder of its own), and raises when even that is unsafe.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            runtime: Path | None = platformdirs.user_runtime_path(APP_NAME, appauthor=False)
        except OSError:
            runtime = None
    if runtime is not None and runtime.parent.is_dir() and os.access(runtime.parent, os.W_OK):
        return runtime
    return user_cache_dir() / "locks"
