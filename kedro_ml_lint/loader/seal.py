"""Cache files are sealed with a key only this user holds, so only our own are trusted.

A cache file says "this project gave this verdict while its inputs were these": anyone who
can write it can make a broken pair pass (an entry committed to the repository, a
pull request's). Every file the cache writes starts with an HMAC-SHA256 of the rest under a
random key kept outside any project (``$XDG_CACHE_HOME/kedro-ml-lint/key``, else
``~/.cache/…``, created on first use, readable by its owner only). A file sealed elsewhere,
or not at all, is ignored and rewritten (docs/design.md §13).

Standard library only: a warm run opens a sealed file before it imports anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

KEY_ENV = "XDG_CACHE_HOME"
_KEY_BYTES = 32
_key: bytes | None = None


def key_file() -> Path:
    """Where this user's key lives."""
    base = os.environ.get(KEY_ENV) or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kedro-ml-lint" / "key"


def _user_key() -> bytes:
    """The key of the user running us, created on first use.

    Raises:
        OSError: When the key can be neither read nor created (the cache is then off).
    """
    global _key
    if _key is None:
        path = key_file()
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another run created it first
                key = path.read_bytes()
            else:
                key = os.urandom(_KEY_BYTES)
                with os.fdopen(fd, "wb") as stream:
                    stream.write(key)
        if len(key) != _KEY_BYTES:
            raise OSError(f"{path}: not a kedro-ml-lint key; remove it to make a new one")
        _key = key
    return _key


def sealed(text: str) -> str:
    """``text`` with its seal as the first line."""
    return _mac(text) + "\n" + text


def opened(document: str) -> str | None:
    """The text a sealed ``document`` holds; ``None`` when this user did not seal it."""
    mac, newline, text = document.partition("\n")
    if not newline or not hmac.compare_digest(mac, _mac(text)):
        return None
    return text


def _mac(text: str) -> str:
    return hmac.new(_user_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()
