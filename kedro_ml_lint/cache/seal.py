"""Cache files are sealed with a key only this user holds, so only our own are trusted.

A cache file says "this project gave this verdict while its inputs were these": anyone who
can write it can make a broken pair pass (an entry committed to the repository, a pull
request's). Every file the cache writes starts with an HMAC-SHA256 of the rest under a
random key (``key`` in the user's cache folder, :func:`kedro_ml_lint.files.user_cache_dir`:
``$KEDRO_ML_LINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/kedro-ml-lint``, else
``~/.cache/kedro-ml-lint`` on Linux; created on first use). The key is trusted only when it
is this user's alone: a regular file (not a link) owned by the effective user with no group
or other permission bits, in a folder owned by the user that no one else can write, and
neither inside the project nor inside any git work tree (a key that a checkout could hold,
a planted one, is no secret).
Anything else raises :class:`KeyRefused`: the run is uncached and says why in one warning
line, never fails (docs/design.md §13).

Standard library (and :mod:`kedro_ml_lint.files`, which imports ``platformdirs`` to find the
folder) only: a warm run opens a sealed file before it imports anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from contextlib import suppress
from pathlib import Path

from kedro_ml_lint.files import CACHE_DIR_ENV, user_cache_dir

# What moves the key: the tool's own override, else the XDG variable (files.user_cache_dir).
KEY_ENV = f"{CACHE_DIR_ENV} (or XDG_CACHE_HOME)"
_KEY_BYTES = 32
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_keys: dict[str, bytes] = {}  # key file -> key, once checked


def owned(info: os.stat_result) -> bool:
    """``info`` is of a file the effective user owns.

    Without POSIX owners (Windows), ownership cannot be told: the key is then trusted by
    its location alone, and the cache folder is refused (it is opened as a directory).
    """
    geteuid = getattr(os, "geteuid", None)
    return geteuid is None or info.st_uid == geteuid()


class KeyRefused(OSError):
    """Raised when the key file, or its folder, is not this user's alone."""


def key_file() -> Path:
    """Where this user's key lives: ``key`` in the user's cache folder."""
    return user_cache_dir() / "key"


def user_key(project_root: Path) -> bytes:
    """The key of the user running us, created on first use.

    Args:
        project_root: The project being checked: a key inside it is refused.

    Raises:
        KeyRefused: When the key or its folder could be someone else's (message: the
            file and what to do).
        OSError: When the key can be neither read nor created (the cache is then off).
    """
    path = key_file()
    folder = path.parent
    _check_location(folder, project_root)
    cached = _keys.get(str(path))
    if cached is not None:
        return cached
    if not os.path.lexists(folder):
        folder.parent.mkdir(parents=True, exist_ok=True)
        with suppress(FileExistsError):  # a concurrent first run made it: it is checked below
            os.mkdir(folder, 0o700)
    check_folder(folder)
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except FileNotFoundError:
        _create(path)
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError as exc:
        if os.path.islink(path):
            raise KeyRefused(f"{path}: the key is a symbolic link; remove it") from exc
        raise
    with os.fdopen(fd, "rb") as stream:
        _check_key(path, os.fstat(stream.fileno()))
        key = stream.read(_KEY_BYTES + 1)
    if len(key) != _KEY_BYTES:
        raise KeyRefused(f"{path}: not a kedro-ml-lint key; remove it to make a new one")
    _keys[str(path)] = key
    return key


def _create(path: Path) -> None:
    """Write a new key whole, then link it into place.

    A concurrent run that reads it never sees half a key, and the first of two runs wins.
    """
    temporary = path.with_name(f".key-{os.getpid()}-{os.urandom(4).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(os.urandom(_KEY_BYTES))
        with suppress(FileExistsError):  # another run made it first: theirs is the key
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _check_location(folder: Path, project_root: Path) -> None:
    """Refuse a key folder inside the project or inside any git work tree."""
    root = os.path.realpath(project_root)
    where = os.path.realpath(folder)  # a link into a checkout is inside it
    if where == root or where.startswith(root.rstrip(os.sep) + os.sep):
        raise KeyRefused(
            f"{folder / 'key'}: the cache key is inside the project; "
            f"point {KEY_ENV} outside it (or pass --no-cache)"
        )
    current = where
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            raise KeyRefused(
                f"{folder / 'key'}: the cache key is inside the git work tree {current}; "
                f"point {KEY_ENV} outside any repository (or pass --no-cache)"
            )
        parent = os.path.dirname(current)
        if parent == current:
            return
        current = parent


def check_folder(folder: Path) -> None:
    """Refuse a folder of ours that is a link, someone else's, or writable by others.

    Raises:
        KeyRefused: Naming the folder and what to do.
    """
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise KeyRefused(f"{folder}: not a folder (a link?); remove it to make a new key")
    if not owned(info):
        raise KeyRefused(f"{folder}: owned by another user; remove it to make a new key")
    if os.name == "posix" and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise KeyRefused(f"{folder}: others can write it; run `chmod go-w {folder}`")


def _check_key(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise KeyRefused(f"{path}: not a regular file; remove it to make a new key")
    if not owned(info):
        raise KeyRefused(f"{path}: owned by another user; remove it to make a new key")
    if os.name == "posix" and info.st_mode & 0o077:
        raise KeyRefused(f"{path}: readable or writable by others; run `chmod 600 {path}`")


def sealed(text: str, key: bytes) -> str:
    """``text`` with its seal as the first line."""
    return _mac(text, key) + "\n" + text


def opened(document: str, key: bytes) -> str | None:
    """The text a sealed ``document`` holds; ``None`` when this key did not seal it."""
    mac, newline, text = document.partition("\n")
    if not newline or not hmac.compare_digest(mac, _mac(text, key)):
        return None
    return text


def _mac(text: str, key: bytes) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
