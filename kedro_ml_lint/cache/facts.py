"""Facts about this user's environment, sealed, valid while what they were read from is.

docs/design.md §4 and §13. A fact is "this happened here" (a library's import succeeded)
together with the :class:`~kedro_ml_lint.cache.recording.Recording` of everything the
happening read. It is stored in the user's cache folder beside the key
(``<key folder>/<kind>/``, never in a project), sealed with the key, and it holds only
while its recorded inputs are unchanged — the cache's own validation. When the key is
refused, no fact is read or written: whoever asks takes no shortcut.

The caller says what the fact is about (JSON data); this module knows nothing of what the
facts mean, nor of Kedro or the loader.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from kedro_ml_lint.cache.recording import (
    Recording,
    adopt,
    environment_digest,
    inputs_of,
    stale_input,
    unrecorded,
)
from kedro_ml_lint.cache.seal import check_folder, key_file, user_key
from kedro_ml_lint.cache.store import open_folder, read_sealed, write_sealed

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class Facts:
    """One kind of sealed fact of this user (``imports``), in the key's folder.

    Args:
        kind: The folder's name beside the key.
        project_root: The project being checked: a key inside it is refused.

    Attributes:
        problem: Why no fact can be used (the key was refused or cannot be made), or
            ``None``.
        environment: The environment digest facts are stored and checked with: the one
            when this object was made. What the process then writes into its environment
            (scikit-learn's import sets ``KMP_*``) follows from it and the recorded files,
            so a fact does not depend on which libraries happened to be imported first.
    """

    def __init__(self, kind: str, project_root: Path) -> None:
        self.folder = key_file().parent / kind
        self.environment = environment_digest()
        self.problem: str | None = None
        self._seal: bytes | None = None
        try:
            with unrecorded():  # the key is ours, not an input of the load
                self._seal = user_key(project_root)
        except OSError as exc:  # KeyRefused too: the same refusal as the snapshot cache's
            self.problem = f"cannot use the cache key: {exc}"

    @property
    def usable(self) -> bool:
        """True when facts can be read and written (the key is the user's alone)."""
        return self._seal is not None

    def holds(self, about: dict[str, Any]) -> bool:
        """True when a fact about ``about`` is stored, sealed by this user, and still valid.

        Its inputs then become inputs of every active recording: a shortcut taken on
        the fact is valid only while the fact is.
        """
        if self._seal is None:
            return False
        with unrecorded():
            document = self._read(about)
            if document is None:
                return False
            try:
                inputs = document["inputs"]
                if document.get("about") != about or stale_input(inputs, self.environment):
                    return False
                adopt(inputs)
            except (ValueError, KeyError, TypeError, AttributeError, IndexError):
                return False  # a malformed entry: never trusted
        return True

    def store(self, about: dict[str, Any], recording: Recording) -> bool:
        """Store the fact about ``about``, read as ``recording`` saw; ``True`` if stored.

        Nothing is stored when the recording is uncacheable or incomplete, when an input
        changed meanwhile, or when the folder is not the user's alone.
        """
        if self._seal is None or recording.uncacheable or recording.incomplete:
            return False
        recording.environment = self.environment
        with unrecorded():
            inputs = inputs_of(recording)
            if inputs is None:
                return False
            fd = self._folder_fd(create=True)
            if fd is None:
                return False
            try:
                write_sealed(_name(about), {"about": about, "inputs": inputs}, self._seal, fd)
            except (OSError, ValueError, TypeError):
                return False  # a fact not stored is paid for again next run, never wrong
            finally:
                os.close(fd)
        return True

    def _read(self, about: dict[str, Any]) -> dict[str, Any] | None:
        fd = self._folder_fd(create=False)
        if fd is None:
            return None
        try:
            return read_sealed(_name(about), fd, self._seal)
        except (OSError, UnicodeDecodeError):
            return None
        finally:
            os.close(fd)

    def _folder_fd(self, create: bool) -> int | None:
        """The folder, checked as the key's folder is and opened without following links."""
        try:
            fd = open_folder(self.folder, create=create, mode=0o700)
        except OSError:  # refused (FolderRefused) or unreadable: no fact
            return None
        if fd is None:
            return None
        try:
            check_folder(self.folder)  # nobody else may write it, as the key's folder
        except OSError:  # KeyRefused: no fact
            os.close(fd)
            return None
        return fd


def _name(about: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(about, sort_keys=True).encode()).hexdigest()
    return f"{digest[:32]}.json"
