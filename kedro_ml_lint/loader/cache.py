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
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro_ml_lint import __version__
from kedro_ml_lint.loader.codec import CodecError, decode, encode, schema_fingerprint
from kedro_ml_lint.loader.snapshot import ProjectSnapshot

CACHE_DIR = ".kedro-ml-lint-cache"
NO_CACHE_ENV = "KEDRO_ML_LINT_NO_CACHE"
FORMAT = f"kedro-ml-lint-cache/1/{schema_fingerprint(ProjectSnapshot)}"
# Shell and git bookkeeping that changes between two invocations of the same command and
# that no pipeline structure depends on; every other variable read is an input.
UNTRACKED_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL", "COLUMNS", "LINES", "GIT_INDEX_FILE"})
# Listing entries that the run itself (or Python's bytecode cache) creates.
_UNLISTED = frozenset({CACHE_DIR, "__pycache__"})
# A file modified this close to the store is re-hashed on every check (coarse clocks).
_RACY_NS = 2_000_000_000
_SYSTEM_ROOTS = ("/proc/", "/sys/", "/dev/")


def disabled_by_environment() -> bool:
    """True when ``KEDRO_ML_LINT_NO_CACHE`` turns the cache off."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("", "0", "false", "no")


# -- recording ---------------------------------------------------------------------------


@dataclass
class Recording:
    """What one load read, as seen while it read it."""

    excluded: tuple[str, ...]
    files: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    dirs: dict[str, str | None] = field(default_factory=dict)
    env: dict[str, str | None] = field(default_factory=dict)
    env_set: dict[str, str | None] = field(default_factory=dict)
    env_names: list[str] | None = None
    incomplete: bool = False  # something could not be recorded: the entry is not stored

    def skip(self, path: str) -> bool:
        """True for paths the key covers otherwise (interpreter, libraries, the cache)."""
        return path.startswith(self.excluded)


_active: Recording | None = None
_busy = False
_hook_installed = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    recording = _active
    if recording is None or _busy:
        return
    try:
        if event == "open" and len(args) >= 3:
            _on_open(recording, args)
        elif event in ("os.listdir", "os.scandir") and args:
            _on_listing(recording, args[0])
    except Exception:  # an audit hook that raises would break the project's own open()
        recording.incomplete = True


def _on_open(recording: Recording, args: tuple[Any, ...]) -> None:
    path, mode, flags = args[0], args[1], args[2]
    if isinstance(path, int) or path is None:
        return
    if mode is None:  # os.open
        if flags & (os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC):
            return
    elif any(c in mode for c in "wax"):
        return
    name = os.path.abspath(os.fsdecode(path))
    head, tail = os.path.split(name)
    if os.path.basename(head) == "__pycache__" and tail.endswith(".pyc"):
        source = os.path.join(os.path.dirname(head), tail.split(".", 1)[0] + ".py")
        if os.path.exists(source):
            name = source  # the bytecode is derived from its source: the source is the input
    if name in recording.files or recording.skip(name):
        return
    recording.files[name] = _stat(name)


def _on_listing(recording: Recording, path: Any) -> None:
    global _busy
    if isinstance(path, int):
        return
    name = os.path.abspath(os.fsdecode(path) if path else ".")
    if name in recording.dirs or recording.skip(name + os.sep):
        return
    _busy = True
    try:
        recording.dirs[name] = _listing(name)
    finally:
        _busy = False


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _listing(path: str) -> str | None:
    try:
        names = sorted(n for n in os.listdir(path) if n not in _UNLISTED)
    except OSError:
        return None
    return hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def _digest(value: str | None) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()


class _RecordingEnviron(os._Environ):
    """``os.environ`` that notes each variable read (``[]``, ``get``, ``in``, ``getenv``)."""

    def __getitem__(self, key: str) -> str:
        try:
            value: str = super().__getitem__(key)
        except KeyError:
            _note_env(key, None)
            raise
        _note_env(key, value)
        return value

    def __setitem__(self, key: str, value: str) -> None:
        recording = _active
        if recording is not None and isinstance(key, str):
            recording.env_set[key] = _digest(value)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        recording = _active
        if recording is not None and isinstance(key, str):
            recording.env_set[key] = None
        super().__delitem__(key)

    def __iter__(self) -> Iterator[str]:
        recording = _active
        if recording is not None and recording.env_names is None:
            recording.env_names = _names(os.environ)
        return super().__iter__()


def _names(environ: Any) -> list[str]:
    """The environment's variable names, read without going through ``__getitem__``."""
    return [environ.decodekey(n) for n in environ._data]


def _names_digest(names: list[str], written: Any) -> str:
    kept = sorted(n for n in names if n not in UNTRACKED_ENV and n not in written)
    return hashlib.sha256("\0".join(kept).encode("utf-8", "surrogateescape")).hexdigest()


def _note_env(key: Any, value: str | None) -> None:
    recording = _active
    if recording is None or not isinstance(key, str) or key in UNTRACKED_ENV:
        return
    recording.env.setdefault(key, _digest(value))


def _excluded_roots(cache_dir: Path) -> tuple[str, ...]:
    import site

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    with suppress(AttributeError):  # some embedded interpreters lack it
        roots.update(site.getsitepackages())
    return (
        tuple(sorted({os.path.abspath(r) + os.sep for r in roots} | {str(cache_dir) + os.sep}))
        + _SYSTEM_ROOTS
    )


@contextmanager
def recorded(cache_dir: Path) -> Iterator[Recording]:
    """Record every file, listing and environment variable read in the block."""
    global _active, _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)  # installed once per process; idle outside a recording
        _hook_installed = True
    recording = Recording(_excluded_roots(cache_dir))
    environ_class = os.environ.__class__
    _active = recording
    os.environ.__class__ = _RecordingEnviron
    try:
        yield recording
    finally:
        os.environ.__class__ = environ_class
        _active = None


# -- entries -------------------------------------------------------------------------------


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
            text = self.entry.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.outcome.problem = f"cannot read {self.entry}: {exc}"
            return None
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
                _write_atomic(ignore, "# Created by kedro-ml-lint automatically.\n*\n", self.folder)
        except OSError as exc:
            self.outcome.problem = f"cannot create {self.folder}: {exc.strerror or exc}"

    def store(self, snapshot: ProjectSnapshot, recording: Recording) -> None:
        """Write the entry, unless an input changed while the project loaded."""
        if self.outcome.problem:
            return
        try:
            inputs = _inputs(recording)
            if inputs is None:
                return  # something changed during the load: the next run loads again
            document = {
                "format": FORMAT,
                "key": self.key.data(),
                "inputs": inputs,
                "snapshot": encode(snapshot),
            }
            text = json.dumps(document, separators=(",", ":"), sort_keys=True)
            _write_atomic(self.entry, text, self.folder)
        except (OSError, CodecError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.outcome.problem = f"cannot write the cache in {self.folder}: {reason}"


def _write_atomic(path: Path, text: str, folder: Path) -> None:
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


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _inputs(recording: Recording) -> dict[str, Any] | None:
    if recording.incomplete:
        return None
    now = time.time_ns()
    files: dict[str, Any] = {}
    for path, seen in recording.files.items():
        if _stat(path) != seen:
            return None
        if seen is None:
            files[path] = None
            continue
        try:
            content = _hash_file(path)
        except IsADirectoryError:
            continue
        except OSError:
            return None
        if _stat(path) != seen:
            return None
        size, mtime = seen
        files[path] = [size, mtime, content, mtime >= now - _RACY_NS]
    dirs: dict[str, Any] = {}
    for path, listing in recording.dirs.items():
        if _listing(path) != listing:
            return None
        stamp = _mtime(path)
        racy = stamp is not None and stamp >= now - _RACY_NS
        dirs[path] = [None if racy else stamp, listing]
    return {
        "files": files,
        "dirs": dirs,
        "env": recording.env,
        "env_set": recording.env_set,
        "env_names": (
            None
            if recording.env_names is None
            else _names_digest(recording.env_names, recording.env_set)
        ),
        "distributions": _distributions(),
    }


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _distributions() -> dict[str, list[str]]:
    """Each library folder on ``sys.path`` -> the distributions installed in it, versioned.

    Files under the interpreter's prefixes are not recorded one by one: the names of the
    ``*.dist-info``/``*.egg-info`` folders (``kedro-1.7.0.dist-info``) stand for them, so an
    upgrade, install or removal of any distribution there invalidates. A superset of the
    libraries the load imported, read with one listing per folder
    (``importlib.metadata.packages_distributions`` costs 0.4 s).
    """
    found: dict[str, list[str]] = {}
    for entry in sys.path:
        folder = os.path.abspath(entry or ".")
        if folder in found or not os.path.isdir(folder):
            continue
        found[folder] = _installed(folder)
    return {folder: names for folder, names in found.items() if names}


def _installed(folder: str) -> list[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(n for n in names if n.endswith((".dist-info", ".egg-info")))


def stale_input(inputs: dict[str, Any]) -> str | None:
    """The first recorded input that changed (``file …``, ``env …``…), ``None`` when none did."""
    for path, seen in inputs["files"].items():
        now = _stat(path)
        if seen is None or now is None:
            if seen is not now:
                return f"file {path}"
            continue
        size, mtime, content, racy = seen
        if now == (size, mtime) and not racy:
            continue
        if now[0] != size:
            return f"file {path}"
        try:
            if _hash_file(path) != content:
                return f"file {path}"
        except OSError:
            return f"file {path}"
    for path, (mtime, listing) in inputs["dirs"].items():
        fresh = listing is not None and mtime is not None and _mtime(path) == mtime
        if not fresh and _listing(path) != listing:
            return f"folder {path}"
    environ = os.environ
    written = inputs["env_set"]
    for name, digest in inputs["env"].items():
        value = _digest(environ.get(name))
        # A variable the load itself set (``os.environ.setdefault`` in a library) may hold
        # what the load wrote when this process loaded before (the API, the tests).
        if value != digest and (name not in written or value != written[name]):
            return f"environment variable {name}"
    names = inputs["env_names"]
    if names is not None and _names_digest(_names(environ), written) != names:
        return "the set of environment variables"
    for folder, installed in inputs["distributions"].items():
        if _installed(folder) != installed:
            return f"installed distributions in {folder}"
    return None


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
