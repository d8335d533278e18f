"""What a run read: files, folders, environment variables and installed distributions.

Recorded while the run reads them (an audit hook sees ``open`` — ``io.open_code`` of
imported sources included — and directory listings; ``os.environ`` is wrapped to see each
variable read), then stored as plain JSON data (:func:`inputs_of`) and re-validated later
(:func:`stale_input`): ``stat`` first, the content hash when the size or ``mtime_ns``
differ. Files under the interpreter's prefixes (the standard library and installed
libraries) are covered by the names of the installed distributions instead of one by one.

Standard library only: a warm run validates inputs before it imports anything else
(docs/design.md §13). Recordings nest: every active one sees what is read.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from kedro_ml_lint.vocabulary import CACHE_DIR

# Shell and git bookkeeping that changes between two invocations of the same command and
# that no pipeline structure depends on; every other variable read is an input.
UNTRACKED_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL", "COLUMNS", "LINES", "GIT_INDEX_FILE"})
# Listing entries that the run itself (or Python's bytecode cache) creates.
_UNLISTED = frozenset({CACHE_DIR, "__pycache__"})
# A file modified this close to the store is re-hashed on every check (coarse clocks).
_RACY_NS = 2_000_000_000
_SYSTEM_ROOTS = ("/proc/", "/sys/", "/dev/")


class Recording:
    """What one load (or one command line) read, as seen while it read it.

    Not a dataclass: the warm path imports this module before anything else, and
    ``dataclasses`` costs more than the rest of it (it imports ``inspect``).
    """

    def __init__(self, excluded: tuple[str, ...], env_set: dict[str, str | None]) -> None:
        """A recording that ignores paths under ``excluded``; ``env_set``: already written."""
        self.excluded = excluded
        self.files: dict[str, tuple[int, int] | None] = {}
        self.dirs: dict[str, str | None] = {}
        self.env: dict[str, str | None] = {}
        self.env_set = env_set
        self.env_names: list[str] | None = None
        self.incomplete = False  # something could not be recorded: nothing is stored
        self.depends: list[dict[str, Any]] = []  # stored inputs relied on

    def skip(self, path: str) -> bool:
        """True for paths the key covers otherwise (interpreter, libraries, the cache)."""
        return path.startswith(self.excluded) or _IN_CACHE in path


_IN_CACHE = os.sep + CACHE_DIR + os.sep  # the cache's own files are never inputs


_ACTIVE: list[Recording] = []  # nested recordings: each sees everything read
# Variables this process wrote while recording: a recording started later holds them as
# written too (the command line sets KEDRO_LOGGING_CONFIG before the load reads it).
_WRITTEN: dict[str, str | None] = {}
_busy = False
_hook_installed = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _ACTIVE or _busy:
        return
    try:
        if event == "open" and len(args) >= 3:
            name = _opened_for_reading(*args[:3])
            if name is not None:
                note_read(name)
        elif event in ("os.listdir", "os.scandir") and args and not isinstance(args[0], int):
            _note_listing(os.path.abspath(os.fsdecode(args[0]) if args[0] else "."))
    except Exception:  # an audit hook that raises would break the project's own open()
        for recording in _ACTIVE:
            recording.incomplete = True


def _opened_for_reading(path: Any, mode: str | None, flags: int) -> str | None:
    """The input an ``open`` event reads (a bytecode file stands for its source)."""
    if isinstance(path, int) or path is None:
        return None
    if mode is None:  # os.open
        if flags & (os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC):
            return None
    elif any(c in mode for c in "wax"):
        return None
    name = os.path.abspath(os.fsdecode(path))
    head, tail = os.path.split(name)
    if os.path.basename(head) == "__pycache__" and tail.endswith(".pyc"):
        source = os.path.join(os.path.dirname(head), tail.split(".", 1)[0] + ".py")
        if os.path.exists(source):
            return source  # the bytecode is derived from its source: the source is the input
    return name


def note_read(path: str) -> None:
    """Every active recording read ``path`` (stat once, however many recordings)."""
    wanting = [r for r in _ACTIVE if path not in r.files and not r.skip(path)]
    if wanting:
        seen = _stat(path)
        for recording in wanting:
            recording.files[path] = seen


def _note_listing(path: str) -> None:
    """Every active recording listed ``path`` (listed and hashed once)."""
    global _busy
    wanting = [r for r in _ACTIVE if path not in r.dirs and not r.skip(path + os.sep)]
    if not wanting:
        return
    _busy = True  # our own listing is not the run's
    try:
        listing = _listing(path)
    finally:
        _busy = False
    for recording in wanting:
        recording.dirs[path] = listing


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _mtime_of(path: str) -> int | None:
    seen = _stat(path)
    return None if seen is None else seen[1]


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
        _note_write(key, _digest(value))
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        _note_write(key, None)
        super().__delitem__(key)

    def __iter__(self) -> Iterator[str]:
        for recording in _ACTIVE:
            if recording.env_names is None:
                recording.env_names = _names(os.environ)
        return super().__iter__()


def _names(environ: Any) -> list[str]:
    """The environment's variable names, read without going through ``__getitem__``."""
    return [environ.decodekey(n) for n in environ._data]


def _names_digest(names: list[str], written: Any) -> str:
    kept = sorted(n for n in names if n not in UNTRACKED_ENV and n not in written)
    return hashlib.sha256("\0".join(kept).encode("utf-8", "surrogateescape")).hexdigest()


def _note_write(key: Any, digest: str | None) -> None:
    if isinstance(key, str):
        _WRITTEN[key] = digest
        for recording in _ACTIVE:
            recording.env_set[key] = digest


def _note_env(key: Any, value: str | None) -> None:
    if not _ACTIVE or not isinstance(key, str) or key in UNTRACKED_ENV:
        return
    for recording in _ACTIVE:
        if key not in recording.env_set:  # else it holds what this run wrote: no input
            recording.env.setdefault(key, _digest(value))


def _excluded_roots() -> tuple[str, ...]:
    import site

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    with suppress(AttributeError):  # some embedded interpreters lack it
        roots.update(site.getsitepackages())
    return tuple(sorted({os.path.abspath(r) + os.sep for r in roots})) + _SYSTEM_ROOTS


@contextmanager
def recorded() -> Iterator[Recording]:
    """Record every file, listing and environment variable read in the block.

    Files in a cache folder are never inputs (:meth:`Recording.skip`).

    Yields:
        The recording, filled in as the block reads.
    """
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)  # installed once per process; idle outside a recording
        _hook_installed = True
    recording = Recording(_excluded_roots(), env_set=dict(_WRITTEN))
    environ_class = os.environ.__class__
    _ACTIVE.append(recording)
    os.environ.__class__ = _RecordingEnviron
    try:
        yield recording
    finally:
        _ACTIVE.remove(recording)
        if not _ACTIVE:
            os.environ.__class__ = environ_class


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inputs_of(recording: Recording) -> dict[str, Any] | None:
    """What ``recording`` saw, as JSON data for :func:`stale_input`.

    ``None`` when it is incomplete or an input changed since it was read (the run may have
    read a half-written file): nothing is then worth storing.
    """
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
        stamp = _mtime_of(path)
        racy = stamp is not None and stamp >= now - _RACY_NS
        dirs[path] = [None if racy else stamp, listing]
    inputs: dict[str, Any] = {
        "files": files,
        "dirs": dirs,
        "env": dict(recording.env),
        "env_set": dict(recording.env_set),
        "env_names": (
            None
            if recording.env_names is None
            else _names_digest(recording.env_names, recording.env_set)
        ),
        "distributions": _distributions(),
    }
    for stored in recording.depends:  # what a cached snapshot was loaded from
        for kind in ("files", "dirs", "env", "env_set"):
            inputs[kind] = {**stored[kind], **inputs[kind]}
        for name in recording.env_set:  # set by this run before the snapshot was read
            inputs["env"].pop(name, None)
        inputs["env_names"] = inputs["env_names"] or stored["env_names"]
    return inputs


def depends_on(inputs: dict[str, Any]) -> None:
    """Every active recording relies on stored ``inputs`` too.

    A snapshot served from the cache: a run replayed later is valid only while the inputs
    it was loaded from are unchanged.
    """
    for recording in _ACTIVE:
        recording.depends.append(inputs)


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
        fresh = listing is not None and mtime is not None and _mtime_of(path) == mtime
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
