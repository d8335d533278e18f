"""One cache folder: entries keyed on what a run asked for, valid while their inputs are.

docs/design.md §13. The caller hands the store what to key on (JSON data), the payload
(JSON data) and the load's :class:`~kedro_ml_lint.cache.recording.Recording`; the store
adds the interpreter to the key, seals every file it writes with the user's key
(:mod:`~kedro_ml_lint.cache.seal`) and serves a payload only when every input it recorded
is unchanged. A recording that is uncacheable (a subprocess, the clock…) or incomplete is
never stored.

The folder is never followed or written when it, or an entry in it, is a symbolic link or
not owned by the user (``lstat``, ``O_NOFOLLOW``, writes relative to the folder's own
descriptor). A damaged, foreign, unreadable or unsealed entry is ignored, never trusted,
never fatal: the run goes on uncached.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from kedro_ml_lint.cache.recording import (
    Recording,
    inputs_of,
    project_sources,
    stale_input,
    suspect_names,
)
from kedro_ml_lint.cache.seal import KeyRefused, opened, owned, sealed, user_key

NO_CACHE_ENV = "KEDRO_ML_LINT_NO_CACHE"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_GITIGNORE = "# Created by kedro-ml-lint automatically.\n*\n"


def disabled_by_environment() -> bool:
    """True when ``KEDRO_ML_LINT_NO_CACHE`` turns the cache off."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("", "0", "false", "no")


class Outcome:
    """How the cache served a run.

    Attributes:
        status: ``hit``, ``miss`` or ``off``.
        problem: Why the cache was not read or not written (the run went on uncached):
            said under ``-v``.
        warning: Why the cache was refused for a reason the user should fix (a key that
            is not theirs alone): said on every run.
        stale: On a miss of an existing entry, the first recorded input that changed.
    """

    def __init__(self, status: str = "off") -> None:
        """An outcome with nothing to say yet."""
        self.status = status
        self.problem: str | None = None
        self.warning: str | None = None
        self.stale: str | None = None


class Store:
    """The cache folder of one project, for one key.

    Args:
        folder: The cache folder (``<project root>/.kedro-ml-lint-cache``).
        project_root: The project: the seal's key may not live inside it.
        key: What the run asked for, as JSON data (the interpreter is added).
    """

    def __init__(self, folder: Path, project_root: Path, key: dict[str, Any]) -> None:
        self.folder = folder
        self.project_root = project_root
        self.key = {
            **key,
            "python": sys.version,
            "executable": sys.executable,
            # Where imports resolve (PYTHONPATH is read before any hook can see it); the
            # project's own folders, which each load puts first, excepted.
            "sys_path": [p for p in sys.path if not _inside(p, project_root)],
        }
        digest = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()
        self.name = f"{digest[:32]}.json"
        self.outcome = Outcome("miss")
        self._seal: bytes | None = None

    def _key(self) -> bytes | None:
        if self._seal is None:
            try:
                self._seal = user_key(self.project_root)
            except KeyRefused as exc:
                self.outcome.status = "off"
                self.outcome.warning = f"cache not used: {exc}"
            except OSError as exc:
                self.outcome.problem = f"cannot use the cache key {exc.filename or ''}: {exc}"
        return self._seal

    def _folder_fd(self, create: bool) -> int | None:
        """The folder, opened without following a link; ``None`` (said why) if refused."""
        try:
            return open_folder(self.folder, create=create, mode=0o755)
        except OSError as exc:
            self.outcome.problem = (
                str(exc)
                if isinstance(exc, FolderRefused)
                else (f"cannot use {self.folder}: {exc.strerror or exc}")
            )
            return None

    def lookup(self) -> Any | None:
        """The stored payload when every input it recorded is unchanged, else ``None``."""
        if self._key() is None:
            return None
        fd = self._folder_fd(create=False)
        if fd is None:
            return None
        try:
            document = read_sealed(self.name, fd, self._seal)
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.outcome.problem = f"cannot read {self.folder / self.name}: {exc}"
            return None
        finally:
            os.close(fd)
        if document is None:
            return None  # not sealed by this user, or not ours: never trusted, rewritten
        try:
            if document.get("key") != self.key:
                return None  # another version's entry (or a collision): rewritten below
            self.outcome.stale = stale_input(document["inputs"])
            if self.outcome.stale is not None:
                return None
            payload = document["payload"]
        except (ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None  # garbage or a truncated entry: never trusted
        self.outcome.status = "hit"
        return payload

    def prepare(self) -> None:
        """Create the folder before the load lists the project root (so it is seen)."""
        if self._key() is None:
            return
        fd = self._folder_fd(create=True)
        if fd is None:
            return
        try:
            try:
                os.stat(".gitignore", dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                write_entry(".gitignore", _GITIGNORE, fd)
        except OSError as exc:
            self.outcome.problem = f"cannot write in {self.folder}: {exc.strerror or exc}"
        finally:
            os.close(fd)

    def store(self, payload: Callable[[], Any], recording: Recording) -> None:
        """Write the entry, unless the load was uncacheable or an input changed meanwhile.

        Args:
            payload: Makes the JSON data to store (called only when storing).
            recording: What the load read.
        """
        suspect = suspect_names(project_sources(recording, str(self.project_root)))
        if recording.uncacheable is None and suspect is not None:
            recording.refuse(f"the project's code names {suspect}")
        if recording.uncacheable:
            self.outcome.problem = f"not cached: {recording.uncacheable}"
            return
        key = self._key()
        if self.outcome.problem or self.outcome.warning or key is None or recording.incomplete:
            return
        inputs = inputs_of(recording)
        if inputs is None:
            return  # something changed during the load: the next run loads again
        fd = self._folder_fd(create=True)
        if fd is None:
            return
        try:
            write_sealed(
                self.name, {"key": self.key, "inputs": inputs, "payload": payload()}, key, fd
            )
        except (OSError, ValueError, TypeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.outcome.problem = f"cannot write the cache in {self.folder}: {reason}"
        finally:
            os.close(fd)


def _inside(entry: str, root: Path) -> bool:
    folder = os.path.abspath(entry or ".")
    return folder == str(root) or folder.startswith(str(root) + os.sep)


class FolderRefused(OSError):
    """A cache folder that is a link, not a folder, someone else's, or swapped meanwhile."""


def open_folder(folder: Path, *, create: bool, mode: int) -> int | None:
    """``folder`` opened without following a link, for ``dir_fd`` reads and writes.

    Args:
        folder: The folder.
        create: Make it (with ``mode``) when it is absent; a concurrent run making it
            first is no error.
        mode: The new folder's mode.

    Returns:
        Its descriptor, or ``None`` when it is absent and ``create`` is false.

    Raises:
        FolderRefused: Naming the folder and why it is never trusted.
        OSError: When it cannot be made, read or opened.
    """
    try:
        info = os.lstat(folder)
    except FileNotFoundError:
        if not create:
            return None
        with suppress(FileExistsError):
            os.mkdir(folder, mode)
        info = os.lstat(folder)
    if stat.S_ISLNK(info.st_mode):
        raise FolderRefused(f"{folder} is a symbolic link: never followed")
    if not stat.S_ISDIR(info.st_mode):
        raise FolderRefused(f"{folder} is not a folder")
    if not owned(info):
        raise FolderRefused(f"{folder} is owned by another user: never trusted")
    fd = os.open(folder, os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
    if not os.path.samestat(os.fstat(fd), info):  # swapped between the two looks
        os.close(fd)
        raise FolderRefused(f"{folder} changed while it was opened")
    return fd


def read_sealed(name: str, folder_fd: int, key: bytes | None) -> dict[str, Any] | None:
    """The JSON document in entry ``name`` when ``key`` sealed it, else ``None``.

    Raises:
        OSError: When the entry cannot be read (``FileNotFoundError`` when absent).
        UnicodeDecodeError: When it is not text.
    """
    text = read_entry(name, folder_fd)
    text = opened(text, key) if key is not None and text is not None else None
    if text is None:
        return None  # a link, someone else's, or not sealed with this key: never trusted
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def write_sealed(name: str, document: dict[str, Any], key: bytes, folder_fd: int) -> None:
    """Write ``document`` as JSON to entry ``name``, sealed with ``key``, atomically."""
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    write_entry(name, sealed(text, key), folder_fd)


def read_entry(name: str, folder_fd: int) -> str | None:
    """The text of the entry ``name``; ``None`` when it is a link or not the user's."""
    fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=folder_fd)
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or not owned(info):
            return None
        return stream.read().decode("utf-8")


def write_entry(name: str, text: str, folder_fd: int) -> None:
    """Write ``text`` to ``name`` in the folder so that no reader ever sees half of it.

    Not :func:`kedro_ml_lint.files.write_atomic` on purpose: this write is security-specific.
    Every step is relative to the folder's own descriptor with ``O_NOFOLLOW`` and ``O_EXCL``,
    so a link planted in the project (the folder, an entry) is never followed or written
    through, and the entry is ``0600`` whatever the umask (docs/design.md §13). A path-based
    write, which follows links and keeps a file's owner and mode, cannot promise that.
    """
    temporary = f".tmp-{os.getpid()}-{os.urandom(6).hex()}"
    fd = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=folder_fd
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary, dir_fd=folder_fd)
        raise


def clean(folder: Path) -> bool:
    """Remove a cache folder (a link in its place is removed, never followed).

    Returns:
        ``True`` when there was one.
    """
    import shutil

    if folder.is_symlink() or folder.is_file():
        folder.unlink()  # not ours to follow; a file in its place is not a cache
        return True
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True
