"""A cache of project snapshots that is never stale (docs/design.md §13).

An entry is keyed on what the run asked for (project root, environment, configuration
folder, pair selection, lite import, kedro-ml-lint and Python versions, the snapshot's
schema) and holds the inputs the load **actually read**, recorded while it read them:

- every file opened (Python's audit hook sees ``open``, ``io.open_code`` of imported
  sources included), absent ones too: size, ``mtime_ns`` and a SHA-256 of the content;
- every directory listed (``os.listdir``/``os.scandir``: globs, ``iterdir``, the import
  system's finders): a hash of the names, so a new catalog file or pipeline folder counts;
- every environment variable read through ``os.environ`` (a hash of the value or its
  absence; never the value), and the set of names when the environment was enumerated;
- the installed distributions (``name-version.dist-info``) of every library folder on
  ``sys.path``.

Files under the interpreter's prefixes (the standard library and installed libraries)
are covered by the Python version and the distribution versions instead of one by one.

A warm run re-validates those inputs (``stat`` first, the content hash when the size or
``mtime_ns`` differ) and, when all match, returns the stored snapshot without importing
anything of the project. Entries are JSON (a cache in the project folder must not be able
to run code), written atomically; a corrupt, foreign or unreadable entry is ignored and
rewritten, and a cache folder that cannot be written never fails a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_ml_lint import __version__
from kedro_ml_lint.loader.codec import CodecError, decode, encode, schema_fingerprint
from kedro_ml_lint.loader.inputs import Recording, depends_on, inputs_of, stale_input
from kedro_ml_lint.loader.seal import opened, sealed
from kedro_ml_lint.loader.snapshot import ProjectSnapshot
from kedro_ml_lint.vocabulary import CACHE_DIR

NO_CACHE_ENV = "KEDRO_ML_LINT_NO_CACHE"
FORMAT = f"kedro-ml-lint-cache/1/{schema_fingerprint(ProjectSnapshot)}"


def disabled_by_environment() -> bool:
    """True when ``KEDRO_ML_LINT_NO_CACHE`` turns the cache off."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class CacheKey:
    """What a run asked for: one entry per distinct key."""

    root: Path
    env: str | None
    conf_source: str | None
    cli_pair: Sequence[str] | None
    pipelines: Sequence[str]
    lite: bool

    def data(self) -> dict[str, Any]:
        """The key as JSON data (stored in the entry and compared on lookup)."""
        return {
            "root": str(self.root),
            "env": self.env,
            "conf_source": self.conf_source,
            "cli_pair": list(self.cli_pair) if self.cli_pair is not None else None,
            "pipelines": list(self.pipelines),
            "lite": self.lite,
            "kedro_ml_lint": __version__,
            "python": sys.version,
            "executable": sys.executable,
            # Where imports resolve (PYTHONPATH is read before any hook can see it); the
            # project's own folders, which each load puts first, excepted.
            "sys_path": [p for p in sys.path if not _inside(p, self.root)],
        }


def _inside(entry: str, root: Path) -> bool:
    folder = os.path.abspath(entry or ".")
    return folder == str(root) or folder.startswith(str(root) + os.sep)


@dataclass
class Outcome:
    """How the cache served a run.

    Attributes:
        status: ``hit``, ``miss`` or ``off``.
        problem: Why the cache could not be read or written (the run went on uncached).
        stale: On a miss of an existing entry, the first recorded input that changed.
    """

    status: str = "off"
    problem: str | None = None
    stale: str | None = None


class ProjectCache:
    """The cache folder of one project, for one key.

    Args:
        key: What the run asked for.
    """

    def __init__(self, key: CacheKey) -> None:
        self.key = key
        self.folder = key.root / CACHE_DIR
        digest = hashlib.sha256(json.dumps(key.data(), sort_keys=True).encode()).hexdigest()
        self.entry = self.folder / f"{digest[:32]}.json"
        self.outcome = Outcome("miss")

    def lookup(self) -> ProjectSnapshot | None:
        """The stored snapshot when every input it recorded is unchanged, else ``None``."""
        try:
            text = opened(self.entry.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.outcome.problem = f"cannot read {self.entry}: {exc}"
            return None
        if text is None:
            return None  # not sealed by this user: never trusted, rewritten below
        try:
            document = json.loads(text)
            if not isinstance(document, dict) or document.get("format") != FORMAT:
                return None  # another version's entry: rewritten below
            if document.get("key") != self.key.data():
                return None
            self.outcome.stale = stale_input(document["inputs"])
            if self.outcome.stale is not None:
                return None
            snapshot = decode(ProjectSnapshot, document["snapshot"])
            depends_on(document["inputs"])  # a run replayed later depends on them too
        except (ValueError, KeyError, TypeError, AttributeError, CodecError):
            return None  # garbage or a truncated entry: never trusted
        self.outcome.status = "hit"
        return snapshot

    def prepare(self) -> None:
        """Create the folder before the load lists the project root (so it is seen)."""
        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                write_atomic(ignore, "# Created by kedro-ml-lint automatically.\n*\n", self.folder)
        except OSError as exc:
            self.outcome.problem = f"cannot create {self.folder}: {exc.strerror or exc}"

    def store(self, snapshot: ProjectSnapshot, recording: Recording) -> None:
        """Write the entry, unless an input changed while the project loaded."""
        if self.outcome.problem:
            return
        try:
            inputs = inputs_of(recording)
            if inputs is None:
                return  # something changed during the load: the next run loads again
            document = {
                "format": FORMAT,
                "key": self.key.data(),
                "inputs": inputs,
                "snapshot": encode(snapshot),
            }
            text = json.dumps(document, separators=(",", ":"), sort_keys=True)
            write_atomic(self.entry, sealed(text), self.folder)
        except (OSError, CodecError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.outcome.problem = f"cannot write the cache in {self.folder}: {reason}"


def write_atomic(path: Path, text: str, folder: Path) -> None:
    """Write ``text`` to ``path`` so that no reader ever sees half of it."""
    import tempfile  # only a store needs it

    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise


def clean(root: Path) -> bool:
    """Remove the project's cache folder; ``True`` when there was one."""
    import shutil

    folder = root / CACHE_DIR
    if folder.is_symlink() or folder.is_file():
        folder.unlink()  # not ours to follow; a file in its place is not a cache
        return True
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True
