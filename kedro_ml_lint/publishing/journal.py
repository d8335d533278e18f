"""The crash journal of ``--log``: what a transaction created, on disk until it is settled.

``<user cache>/pending-rollbacks/<store>/<transaction>.json`` holds the
:class:`~kedro_ml_lint.publishing.records.Records`; it exists from before the first store call
until the commit or a complete roll-back, so a process killed in between leaves it to the
next attempt on the store. ``<transaction>.lock``, held while the transaction runs, tells
that attempt whether its owner is alive (the kernel drops the lock of a killed process).
Without a writable cache folder, logging still works, without that protection against
SIGKILL (docs/design.md §6).
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Generator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_ml_lint.files import hold_lock, try_lock, user_cache_dir, write_atomic
from kedro_ml_lint.publishing.records import Records

if TYPE_CHECKING:
    from filelock import BaseFileLock

logger = logging.getLogger(__name__)

FOLDER = "pending-rollbacks"


def store_folder(uri: str | None) -> Path:
    """The folder of the journals of one tracking store (``None``: MLflow's default)."""
    key = hashlib.sha256((uri or "<default>").encode()).hexdigest()[:16]
    return user_cache_dir() / FOLDER / key


class Journal:
    """The entry of one transaction among its store's pending roll-backs.

    Args:
        uri: The tracking store.
        records: What the transaction created so far; :meth:`write` saves it.
    """

    def __init__(self, uri: str | None, records: Records) -> None:
        self.folder = store_folder(uri)
        self.path = self.folder / f"{records.transaction}.json"
        self.lock_path = self.path.with_suffix(".lock")
        self.records = records
        self.lock: BaseFileLock | None = None

    def open(self) -> None:
        """Take the journal's lock and write it: before the first store call."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.lock = hold_lock(self.lock_path)
        except OSError as exc:
            logger.debug("kedro-ml-lint: no journal for this `--log`: %s", exc)
            return
        self.write()

    def write(self) -> None:
        """Save the records as they are now, atomically (a kill never leaves half of them)."""
        if self.lock is None:
            return
        with suppress(OSError):
            write_atomic(self.path, self.records.to_json().encode())

    def close(self) -> None:
        """Forget the transaction: it committed, or nothing of it is left."""
        if self.lock is None:
            return
        _forget(self.path, self.lock_path)
        self.release()

    def release(self) -> None:
        """Keep the journal for the next attempt on this store, and let it replay it."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def abandoned(uri: str | None) -> Generator[tuple[Records, Callable[[], None]], None, None]:
    """The journals of this store whose owner is gone (its lock is free), oldest name first.

    Each comes with the function that forgets it once its roll-back is complete. Its lock
    is held until the iteration moves on (or the generator is closed), so two attempts never
    replay one journal at once; a journal that cannot be read is skipped.
    """
    folder = store_folder(uri)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        lock_path = path.with_suffix(".lock")
        try:
            held = try_lock(lock_path)
        except OSError:
            continue
        if held is None:
            continue  # its owner is still logging
        try:
            try:
                records = Records.from_json(path.read_text())
            except (OSError, ValueError, TypeError):
                continue
            yield records, functools.partial(_forget, path, lock_path)
        finally:
            held.release()


def _forget(path: Path, lock_path: Path) -> None:
    with suppress(OSError):
        path.unlink()
    with suppress(OSError):
        lock_path.unlink()
