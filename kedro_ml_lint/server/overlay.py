"""Unsaved buffers: a shadow tree of the project where the worker reads them.

Kedro reads configuration through fsspec and Python imports modules from disk: no overlay
can reach every reader, so a project with unsaved buffers is checked in a copy of itself.
The copy is kept between checks and synced by size and mtime; the buffers are written into
it; folders nothing reads as configuration or code (data, virtual environments) are linked,
not copied. Violations come back with paths relative to the copy's root, which are the same
relative paths in the real project; any absolute path in a message is mapped back by
:meth:`ShadowTree.unshadow`. The copy has its own cache folder (its own root, so its own
key): a shadow check never reads or writes the real project's cache entries.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from kedro_ml_lint.vocabulary import CACHE_DIR

# Never mirrored: version control, caches, bytecode (the worker writes none).
SKIPPED = frozenset({".git", ".hg", ".svn", CACHE_DIR, "__pycache__", ".mypy_cache",
                     ".ruff_cache", ".pytest_cache", "mlruns", "node_modules"})  # fmt: skip
# Linked as a whole: large, and never configuration or the project's code.
LINKED = frozenset({"data", ".venv", "venv", "env", ".tox", ".nox", "logs", "notebooks"})
# A file this large is linked, not copied (a model, a data file beside the code).
COPY_LIMIT = 1 << 20


class ShadowTree:
    """A copy of one project, with some files replaced by their unsaved text.

    Args:
        real: The project root, resolved.
        shadow: An empty (or earlier) folder of ours to keep the copy in.
    """

    def __init__(self, real: Path, shadow: Path) -> None:
        self.real = real
        self.root = shadow
        # relative path -> (size, mtime_ns) of the real file copied there; None: overlaid.
        self._copied: dict[str, tuple[int, int] | None] = {}

    def sync(self, overlays: Mapping[str, str]) -> Path:
        """Bring the copy up to date with the disk, then write ``overlays`` over it.

        Args:
            overlays: Relative path (``/`` separators) -> the buffer's text.

        Returns:
            The copy's root, to be checked in place of the project.
        """
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        seen: set[str] = set()
        for folder, dirs, files in os.walk(self.real):
            here = Path(folder)
            relative_folder = here.relative_to(self.real)
            (self.root / relative_folder).mkdir(exist_ok=True)
            for name in list(dirs):
                if name in SKIPPED:
                    dirs.remove(name)
                elif name in LINKED or (here / name).is_symlink():
                    dirs.remove(name)
                    self._link(relative_folder / name, seen)
            for name in files:
                relative = (relative_folder / name).as_posix()
                seen.add(relative)
                if relative not in overlays:
                    self._copy(relative)
        for relative, text in overlays.items():
            seen.add(relative)
            self._overlay(relative, text)
        for relative in set(self._copied) - seen:
            (self.root / relative).unlink(missing_ok=True)
            del self._copied[relative]
        return self.root

    def _link(self, relative: Path, seen: set[str]) -> None:
        key = relative.as_posix()
        seen.add(key)
        target = self.root / relative
        if not target.is_symlink():
            if target.is_dir():
                shutil.rmtree(target)
            target.symlink_to(self.real / relative)
        self._copied.setdefault(key, (0, 0))

    def _copy(self, relative: str) -> None:
        source, target = self.real / relative, self.root / relative
        try:
            stat = source.stat()
        except OSError:
            return
        state = (stat.st_size, stat.st_mtime_ns)
        if self._copied.get(relative) == state and target.exists():
            return
        target.unlink(missing_ok=True)
        if stat.st_size > COPY_LIMIT:
            target.symlink_to(source)
        else:
            shutil.copy2(source, target)  # mtime kept: the copy's own cache can hit
        self._copied[relative] = state

    def _overlay(self, relative: str, text: str) -> None:
        target = self.root / relative
        data = text.encode("utf-8")
        if self._copied.get(relative, ()) is None and target.read_bytes() == data:
            return  # the same unsaved text: leave its stat alone, so the copy's cache hits
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.kml-overlay")
        temporary.write_bytes(data)
        os.replace(temporary, target)  # a new inode: the cache sees the change whatever the size
        self._copied[relative] = None

    def unshadow(self, text: str) -> str:
        """``text`` (a message, a path) with the copy's root replaced by the project's."""
        return text.replace(str(self.root), str(self.real))
