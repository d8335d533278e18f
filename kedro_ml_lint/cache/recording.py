"""What a load read, recorded while it read it; and what it did that no record can hold.

docs/design.md §13. While :func:`recorded` is active:

- an audit hook sees every file opened for reading (``open``; ``io.open_code`` of imported
  sources too, bytecode standing for its source) and every folder listed
  (``os.listdir``/``os.scandir``);
- ``os.stat``, ``os.lstat``, ``os.access`` and ``os.readlink`` are wrapped (they have no
  audit event), so a path only looked at — ``Path.exists``, ``os.path.isfile``,
  ``getmtime``… — is an input too, absent ones included;
- the ``time`` module's clock functions are wrapped, and audit events that read state no
  record can hold (a subprocess, SQLite, a socket, ``ctypes``, a URL, a file descriptor)
  make the recording **uncacheable**, with a one-line reason;
- every module loaded in the process when it ends counts through its ``__file__``
  (extension modules too: no audit event opens them; a module imported earlier is used
  unseen).

:func:`inputs_of` turns a recording into JSON data (full ``stat`` of every file, a content
hash where it can help), :func:`stale_input` re-validates it. :func:`suspect_names` scans
source files for clock, randomness, host and native-reader names.

Standard library only and nothing of Kedro: a warm run validates inputs before it imports
anything else. Recordings nest: every active one sees what is read.
"""

from __future__ import annotations

import hashlib
import os
import stat as stat_module
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from kedro_ml_lint.vocabulary import CACHE_DIR

# Shell bookkeeping that changes between two invocations of the same command and that no
# pipeline structure depends on; every other variable is part of the environment digest.
UNTRACKED_ENV = frozenset({"_", "OLDPWD", "PWD", "SHLVL", "COLUMNS", "LINES", "GIT_INDEX_FILE"})
# Listing entries that the run itself (or Python's bytecode cache) creates.
_UNLISTED = frozenset({CACHE_DIR, "__pycache__"})
# A file changed this close to the store is re-hashed on every check (coarse clocks).
_RACY_NS = 2_000_000_000
_IN_CACHE = os.sep + CACHE_DIR + os.sep  # the cache's own files are never inputs
_SYSTEM = ("/proc/", "/sys/", "/dev/")  # the kernel's live state

# Audit events that read state a recording cannot hold: the load is not cached.
_UNCACHEABLE_EVENTS = {
    "subprocess.Popen": "ran a subprocess",
    "os.system": "ran a shell command",
    "os.exec": "exec'd a program",
    "os.posix_spawn": "spawned a process",
    "os.spawn": "spawned a process",
    "os.fork": "forked",
    "os.forkpty": "forked",
    "pty.spawn": "spawned a process",
    "sqlite3.connect": "opened an SQLite database",
    "socket.connect": "connected a socket",
    "socket.getaddrinfo": "resolved a host name",
    "socket.gethostbyname": "resolved a host name",
    "socket.gethostbyaddr": "resolved a host address",
    "socket.gethostname": "read the host name",
    "socket.getnameinfo": "resolved a host address",
    "socket.sethostname": "set the host name",
    "socket.bind": "bound a socket",
    "socket.sendto": "sent on a socket",
    "socket.sendmsg": "sent on a socket",
    "urllib.Request": "opened a URL",
    "http.client.connect": "opened an HTTP connection",
    "ftplib.connect": "opened an FTP connection",
    "smtplib.connect": "opened an SMTP connection",
    "imaplib.open": "opened an IMAP connection",
    "poplib.connect": "opened a POP connection",
    "nntplib.connect": "opened an NNTP connection",
    "telnetlib.Telnet.open": "opened a Telnet connection",
    "webbrowser.open": "opened a browser",
    "os.getxattr": "read extended attributes",
    "os.listxattr": "read extended attributes",
    "mmap.__new__": "mapped a file",
    "winreg.OpenKey": "read the Windows registry",
    "_winapi.CreateProcess": "ran a subprocess",
}
_UNCACHEABLE_PREFIXES = {"ctypes.": "used ctypes"}
_CLOCKS = ("time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "strftime")

# Names whose use in a project source makes its load uncacheable (docs/design.md §13).
# Not `node`: every Kedro project names it; `platform` (its module) is in the list.
SUSPECT_NAMES = {
    "the clock": frozenset(
        [
            "now",
            "today",
            "utcnow",
            "utcfromtimestamp",
            "fromtimestamp",
            "time",
            "time_ns",
            "localtime",
            "gmtime",
            "ctime",
            "asctime",
            "strftime",
            "perf_counter",
            "monotonic",
            "getmtime",
            "getctime",
            "getatime",
            "st_mtime",
            "st_mtime_ns",
            "st_ctime",
            "st_ctime_ns",
            "st_atime",
            "st_atime_ns",
        ]
    ),
    "randomness": frozenset(
        [
            "random",
            "uuid1",
            "uuid4",
            "randint",
            "randrange",
            "choice",
            "choices",
            "shuffle",
            "sample",
            "urandom",
            "token_hex",
            "token_bytes",
            "token_urlsafe",
            "SystemRandom",
            "default_rng",
        ]
    ),
    "the host": frozenset(
        [
            "gethostname",
            "getfqdn",
            "getuser",
            "getlogin",
            "getpid",
            "getppid",
            "platform",
            "uname",
            "cpu_count",
            "getpwuid",
            "getpwnam",
        ]
    ),
    "a native reader": frozenset(
        [
            "read_parquet",
            "read_feather",
            "read_orc",
            "read_table",
            "read_hdf",
            "read_sql",
            "read_sql_table",
            "read_sql_query",
            "read_stata",
            "read_sas",
            "read_spss",
            "ParquetFile",
            "ParquetDataset",
            "scan_parquet",
            "scan_csv",
            "scan_ipc",
            "read_ipc",
            "duckdb",
            "connect",
            "create_engine",
            "cdll",
            "CDLL",
            "dlopen",
        ]
    ),
}


def _full(st: os.stat_result) -> list[int]:
    """What user space cannot fake together: a ``cp -p``, ``tar -x`` or rename changes it."""
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode]


class Recording:
    """What one load read, as seen while it read it.

    Not a dataclass: the warm path imports this module before anything else, and
    ``dataclasses`` costs more than the rest of it (it imports ``inspect``).
    """

    def __init__(self, project_root: str | None = None) -> None:
        """An empty recording; ``project_root``: whose code may never read the clock."""
        self._inside = None if project_root is None else project_root.rstrip(os.sep) + os.sep
        self._roots = interpreter_roots()
        self.files: dict[str, list[int] | None] = {}  # opened: full stat, None if absent
        self.stats: dict[str, list[int] | None] = {}  # only stat'ed (following links)
        self.lstats: dict[str, list[int] | None] = {}  # only lstat'ed
        self.dirs: dict[str, str | None] = {}  # listed: hash of the listing
        self.environment = environment_digest()
        self.uncacheable: str | None = None  # why nothing may be stored
        self.incomplete = False  # something could not be recorded: nothing is stored

    def is_project(self, filename: str) -> bool:
        """``filename`` is the project's own code, not an installed library's.

        A venv inside the project holds libraries, not the project. Without a project
        root, every file counts as the project's (conservative).
        """
        if self._inside is None:
            return True
        return filename.startswith(self._inside) and not _installed(filename, self._roots)

    def refuse(self, reason: str) -> None:
        """Nothing this load gave may be stored; the first reason is the one said."""
        if self.uncacheable is None:
            self.uncacheable = reason


_ACTIVE: list[Recording] = []  # nested recordings: each sees everything read
_busy = False
_hook_installed = False
# The real functions, bound once: our own checks must not record themselves.
_stat = os.stat
_lstat = os.lstat
_listdir = os.listdir


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _ACTIVE or _busy:
        return
    try:
        if event == "open" and len(args) >= 3:
            if isinstance(args[0], int):
                if args[1] is None or not any(c in args[1] for c in "wax"):
                    _refuse_all("the load read from a file descriptor")
                return
            name = _opened_for_reading(*args[:3])
            if name is not None:
                note_read(name)
        elif event in ("os.listdir", "os.scandir"):
            if args and isinstance(args[0], int):
                _refuse_all(f"the load listed a folder by descriptor ({event})")
            elif args:
                path = os.path.abspath(os.fsdecode(args[0]) if args[0] else ".")
                _note_listing(path, event == "os.scandir")
        elif not _own_process_symbols(event, args):
            reason = _UNCACHEABLE_EVENTS.get(event)
            if reason is None:
                reason = next(
                    (r for p, r in _UNCACHEABLE_PREFIXES.items() if event.startswith(p)), None
                )
            if reason is not None:
                _refuse_all(f"the load {reason}{_what(event, args)}")
    except Exception:  # an audit hook that raises would break the project's own open()
        for recording in _ACTIVE:
            recording.incomplete = True


def _own_process_symbols(event: str, args: tuple[Any, ...]) -> bool:
    """``ctypes.pythonapi`` (``dlopen(NULL)``, the running process, and its symbols).

    ``import ctypes`` does it, fsspec takes two function pointers from it: nothing is
    read outside the process. Every other ``ctypes`` event refuses the load.
    """
    if event == "ctypes.dlopen":
        return bool(args) and args[0] is None
    if event == "ctypes.dlsym":
        return bool(args) and getattr(args[0], "_name", "") is None
    return False


def _what(event: str, args: tuple[Any, ...]) -> str:
    """`` (`git`)``: the program or path an event names, when it names one simply."""
    with suppress(Exception):
        first = args[0]
        if event == "subprocess.Popen":  # (executable, args, cwd, env)
            program = first if first is not None else args[1]
            if not isinstance(program, (str, bytes, os.PathLike)):
                program = program[0]
            return f" (`{os.path.basename(os.fsdecode(program)).split()[0]}`)"
        if isinstance(first, (str, bytes, os.PathLike)):
            return f" (`{os.fsdecode(first)}`)"
    return f" ({event})"


def _refuse_all(reason: str) -> None:
    for recording in _ACTIVE:
        recording.refuse(reason)


@contextmanager
def unrecorded() -> Iterator[None]:
    """What the block reads is ours (a cache file, a validation), not the load's."""
    global _busy
    saved, _busy = _busy, True
    try:
        yield
    finally:
        _busy = saved


def adopt(inputs: dict[str, Any]) -> None:
    """Every active recording also depends on ``inputs`` (stored by :func:`inputs_of`).

    A shortcut taken on a stored fact (a library's import known to succeed) is valid only
    while the fact is: whatever is recorded meanwhile must be invalidated when it is.
    Call it right after :func:`stale_input` found ``inputs`` unchanged.
    """
    for recording in _ACTIVE:
        for path, seen in inputs["files"].items():
            recording.files.setdefault(path, None if seen is None else seen[0])
        for table in ("stats", "lstats"):
            for path, seen in inputs[table].items():
                getattr(recording, table).setdefault(path, seen[0])
        for path, (_, listing) in inputs["dirs"].items():
            recording.dirs.setdefault(path, listing)


def _opened_for_reading(path: Any, mode: str | None, flags: int) -> str | None:
    """The input an ``open`` event reads (a bytecode file stands for its source)."""
    if path is None:
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
        if _stat_of(source, True) is not None:
            return source  # the bytecode is derived from its source: the source is the input
    return name


def _skip(path: str) -> bool:
    """The cache's own folder and files (which this run writes) are never inputs."""
    return (
        _IN_CACHE in path or path.endswith(_IN_CACHE[:-1]) or path == "/dev/null"  # always empty
    )


def note_read(path: str) -> None:
    """Every active recording read ``path`` (stat once, however many recordings)."""
    wanting = [r for r in _ACTIVE if path not in r.files]
    if wanting and not _skip(path):
        if path.startswith(_SYSTEM):
            _refuse_all(f"the load read `{path}` (the system's live state)")
            return
        seen = _stat_of(path, True)
        for recording in wanting:
            recording.files[path] = seen


def _note_listing(path: str, entries: bool) -> None:
    """Every active recording listed ``path`` (listed and hashed once)."""
    wanting = [r for r in _ACTIVE if path not in r.dirs]
    if not wanting or _skip(path + os.sep):
        return
    with unrecorded():  # our own listing is not the run's
        listing = _listing(path, entries)
    for recording in wanting:
        recording.dirs[path] = listing


def _stat_of(path: str, follow: bool) -> list[int] | None:
    try:
        return _full(_stat(path) if follow else _lstat(path))
    except (OSError, ValueError):
        return None


def _looked_at(path: str, follow: bool) -> list[int] | None:
    """What a ``stat`` tells of a path: all of it for a file; for a folder, which one.

    A folder's times change with every file created in it (``/tmp``, every folder that
    ``realpath`` walks): what a caller learns from them is its type, permissions and
    identity; its names are an input only when it is listed. Under ``/proc``, ``/sys`` and
    ``/dev`` only whether the path exists and its kind count (``threadpoolctl`` asks
    whether ``/proc/self`` exists: another process's folder every time); reading one
    refuses the load. Project code that reads
    file times by name (``getmtime``, ``st_mtime``) is refused (:data:`SUSPECT_NAMES`).
    """
    seen = _stat_of(path, follow)
    if seen is not None and path.startswith(_SYSTEM):
        return [0, 0, 0, 0, 0, stat_module.S_IFMT(seen[5])]  # the kernel's: which kind
    if seen is not None and stat_module.S_ISDIR(seen[5]):
        return [seen[0], seen[1], 0, 0, 0, seen[5]]
    return seen


def _listing(path: str, entries: bool) -> str | None:
    """A hash of the names in ``path``; with ``entries``, of each entry's ``lstat`` too.

    ``os.scandir`` hands out ``DirEntry.stat()`` and ``is_file()`` with no audit event:
    what they could tell is in the hash (``entries`` listings start with ``+``).
    """
    try:
        names = sorted(n for n in _listdir(path) if n not in _UNLISTED)
    except OSError:
        return None
    digest = hashlib.sha256("\0".join(names).encode("utf-8", "surrogateescape"))
    if entries:
        for name in names:
            digest.update(repr(_stat_of(os.path.join(path, name), False)).encode())
    return ("+" if entries else "") + digest.hexdigest()


def environment_digest() -> str:
    """One hash of every environment variable and its value (minus shell bookkeeping).

    The whole environment, not the variables read through ``os.environ``: native code
    reads it with ``getenv`` unseen. Never stored as values, only as this hash. A variable
    that a recorded block of this process wrote (scikit-learn's import sets ``KMP_*``),
    while it still holds what the block wrote, counts with the value it had before: what a
    load writes follows from its inputs, so a second load in the same process is keyed as
    the first was. Changed since by anyone else, it counts as it is.
    """
    data: dict[bytes, bytes | None] = dict(os.environ._data)  # type: ignore[attr-defined]
    for name, (before, written) in _WRITTEN.items():
        if data.get(name) == written:  # still as the block left it (changed since: counts)
            data[name] = before
    digest = hashlib.sha256()
    for name in sorted(data):
        value = data[name]
        if value is not None and os.fsdecode(name) not in UNTRACKED_ENV:
            digest.update(name + b"\0" + value + b"\0")
    return digest.hexdigest()


# Variables a recorded block wrote -> (their value before, the value it wrote); None:
# absent. Filled when the outermost recording ends.
_WRITTEN: dict[bytes, tuple[bytes | None, bytes | None]] = {}


def _note_written(before: dict[bytes, bytes]) -> None:
    """Remember the variables that changed since ``before``: earlier and written values."""
    now = os.environ._data  # type: ignore[attr-defined]
    for name in before.keys() | now.keys():
        if before.get(name) != now.get(name):
            earlier = _WRITTEN[name][0] if name in _WRITTEN else before.get(name)
            _WRITTEN[name] = (earlier, now.get(name))


def _stat_wrapper(real: Callable[..., Any], table: str, follow: bool) -> Callable[..., Any]:
    def wrapped(path: Any, *args: Any, **kwargs: Any) -> Any:
        if _ACTIVE and not _busy:
            _note_stat(path, table, follow and kwargs.get("follow_symlinks", True), kwargs)
        return real(path, *args, **kwargs)

    wrapped.__wrapped__ = real  # type: ignore[attr-defined]
    return wrapped


def _note_stat(path: Any, table: str, follow: bool, kwargs: dict[str, Any]) -> None:
    try:
        if isinstance(path, int):
            return  # a descriptor: the file it was opened from is recorded
        if kwargs.get("dir_fd") is not None:
            _refuse_all("the load looked at a path relative to a folder descriptor")
            return
        name = os.path.abspath(os.fsdecode(path))
        if _skip(name):
            return
        key = table if follow else "lstats"
        wanting = [r for r in _ACTIVE if name not in getattr(r, key)]
        if wanting:
            seen = _looked_at(name, follow)
            for recording in wanting:
                getattr(recording, key)[name] = seen
    except Exception:
        for recording in _ACTIVE:
            recording.incomplete = True


def _clock_wrapper(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    # Given a time (``strftime(fmt, t)``, ``localtime(secs)``), these are pure functions.
    pure_with = 2 if name == "strftime" else 1 if name not in ("time", "time_ns") else None

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        reads = pure_with is None or len(args) < pure_with or args[pure_with - 1] is None
        if reads and _ACTIVE and not _busy and not _harmless_clock(sys._getframe(1)):
            _refuse_all(f"the load read the clock (`time.{name}`)")
        return real(*args, **kwargs)

    wrapped.__wrapped__ = real  # type: ignore[attr-defined]
    return wrapped


_LOGGING = os.sep + os.path.join("logging", "__init__.py")


def _harmless_clock(frame: Any) -> bool:
    """A clock read no pipeline can depend on, judged from the reading frame outwards.

    A ``logging.LogRecord``'s time stamp (``-v`` lets Kedro log); and a library reading the
    clock while its module body runs (``numpy.f2py`` stamps a generation time,
    ``dateutil`` notes the year) when no project frame is between: the import of an
    installed file, itself an input. A project frame met first — the project's code
    calling the clock, directly or through a library function — refuses the load.
    """
    code = frame.f_code
    if code.co_name == "__init__" and code.co_filename.endswith(_LOGGING):
        return True
    while frame is not None:
        filename = frame.f_code.co_filename
        if any(r.is_project(filename) for r in _ACTIVE):
            return False
        if frame.f_code.co_name == "<module>":
            return True
        frame = frame.f_back
    return False


@contextmanager
def _patched() -> Iterator[None]:
    """``os`` stat functions and ``time`` clocks wrapped, for the outermost recording."""
    saved: list[tuple[Any, str, Any]] = []
    for module, name, wrapper in (
        (os, "stat", _stat_wrapper(os.stat, "stats", True)),
        (os, "lstat", _stat_wrapper(os.lstat, "lstats", False)),
        (os, "access", _stat_wrapper(os.access, "stats", True)),
        (os, "readlink", _stat_wrapper(os.readlink, "lstats", False)),
        *((time, clock, _clock_wrapper(clock, getattr(time, clock))) for clock in _CLOCKS),
    ):
        saved.append((module, name, getattr(module, name)))
        setattr(module, name, wrapper)
    try:
        yield
    finally:
        for module, name, real in saved:
            setattr(module, name, real)


@contextmanager
def recorded(
    project_root: str | None = None, *, project_modules: bool = True, shared_objects: bool = False
) -> Iterator[Recording]:
    """Record every file, folder, path looked at and module imported in the block.

    Files in a cache folder are never inputs.

    Args:
        project_root: The project's folder: a clock read by its code is never harmless.
        project_modules: Count the project's own loaded modules (and its packages'
            folders) as inputs. ``False`` for a fact about the environment, such as a
            library's import: the project's code is not what it depends on, and editing it
            must not retire the fact (what the block itself opens still counts).
        shared_objects: Count the shared libraries mapped into the process by the block's
            end as inputs too (``/proc/self/maps``, where there is one), as loaded modules
            count: the dynamic linker loads an extension module's native dependencies
            (``numpy.libs/…``, ``/usr/lib/…``) with no audit event, and a broken one fails
            an import as surely as a module.

    Yields:
        The recording, filled in as the block reads.
    """
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)  # installed once per process; idle outside a recording
        _hook_installed = True
    recording = Recording(project_root)
    _ACTIVE.append(recording)
    environment = dict(os.environ._data)  # type: ignore[attr-defined]
    try:
        if len(_ACTIVE) == 1:
            try:
                with _patched():
                    yield recording
            finally:
                _note_written(environment)
        else:
            yield recording
        if shared_objects:  # while active: the enclosing recordings get them too
            for path in sorted(_mapped_files()):
                if not project_modules and recording.is_project(path):
                    continue
                if path.endswith(" (deleted)"):  # replaced while mapped: cannot be told
                    recording.incomplete = True
                else:
                    note_read(path)
    finally:
        _ACTIVE.remove(recording)
    _note_modules(recording, project_modules)


_MAPS = "/proc/self/maps"
_NOT_FILES = ("/memfd:", *_SYSTEM)


def _mapped_files() -> set[str]:
    """The files mapped into this process (none where the system does not say)."""
    try:
        with unrecorded(), open(_MAPS, encoding="utf-8", errors="surrogateescape") as maps:
            fields = (line.rstrip("\n").split(None, 5) for line in maps)
            # Files only: not anonymous memory (`/memfd:…`) nor devices (a GPU's `/dev/…`).
            return {
                f[5]
                for f in fields
                if len(f) == 6 and f[5].startswith(os.sep) and not f[5].startswith(_NOT_FILES)
            }
    except OSError:
        return set()


def _note_modules(recording: Recording, project_modules: bool = True) -> None:
    """Every loaded module is an input by its ``__file__``; every import folder by its names.

    An extension module (``.so``) is loaded with no audit event, and a module is opened
    once per process (one imported before the block is used by it unseen): this catches a
    library reinstalled at the same version, an edited editable checkout. The import system
    lists a folder once per process and then answers from memory, so a failed optional
    import (``try: import x``) leaves no event: the listings of ``sys.path`` and of every
    package's ``__path__`` make a newly installed module a miss.
    """
    folders: set[str] = {os.path.abspath(entry or ".") for entry in sys.path}
    for module in list(sys.modules.values()):
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str) and filename:
            path = os.path.abspath(filename)
            if not project_modules and recording.is_project(path):
                continue
            if path not in recording.files and not _skip(path):
                recording.files[path] = _stat_of(path, True)
        search = getattr(module, "__path__", None)
        if search is not None:
            with suppress(TypeError):  # a namespace package's path is iterable only
                folders.update(
                    os.path.abspath(entry)
                    for entry in search
                    if isinstance(entry, str)
                    and (project_modules or not recording.is_project(entry + os.sep))
                )
    for folder in sorted(folders):
        if folder not in recording.dirs and not _skip(folder + os.sep):
            recording.dirs[folder] = _listing(folder, False)


def suspect_names(sources: Iterable[str]) -> str | None:
    """``"`now` (the clock) in src/x.py"`` when a source file names something unrecordable.

    Scans each file's code objects (``co_names`` and string constants, recursively): a
    name of a clock read, randomness, the host's identity or a native file reader. Text,
    not execution: a name in a branch never taken counts too (conservative).
    """
    for source in sources:
        try:
            with open(source, "rb") as stream:
                code = compile(stream.read(), source, "exec", dont_inherit=True)
        except (OSError, SyntaxError, ValueError):
            return f"`{source}` could not be scanned"
        names = _names_in(code)
        for what, suspects in SUSPECT_NAMES.items():
            hit = sorted(names & suspects)
            if hit:
                return f"`{hit[0]}` ({what}) in {source}"
    return None


def _names_in(code: Any) -> set[str]:
    names = set(code.co_names)
    pending = list(code.co_consts)
    while pending:
        const = pending.pop()
        if isinstance(const, str):
            names.add(const)
        elif isinstance(const, (tuple, frozenset)):
            pending.extend(const)
        elif hasattr(const, "co_names"):
            names.update(const.co_names)
            pending.extend(const.co_consts)
    return names


def _hash_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:  # following links, as the load did
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def interpreter_roots() -> tuple[str, ...]:
    """The folders of the interpreter and its installed libraries (each ends with a ``/``)."""
    import site

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    with suppress(AttributeError):  # some embedded interpreters lack them
        roots.update(site.getsitepackages())
        roots.add(site.getusersitepackages())
    return tuple(sorted({os.path.abspath(r) + os.sep for r in roots}))


def _installed(path: str, roots: tuple[str, ...]) -> bool:
    """A file of the interpreter or of an installed library (any venv's)."""
    return path.startswith(roots) or f"{os.sep}site-packages{os.sep}" in path


def project_sources(recording: Recording, root: str) -> list[str]:
    """The Python sources under ``root`` the load read, minus installed libraries' files."""
    roots = interpreter_roots()
    inside = root.rstrip(os.sep) + os.sep
    return sorted(
        path
        for path in recording.files
        if path.startswith(inside) and path.endswith(".py") and not _installed(path, roots)
    )


def inputs_of(recording: Recording) -> dict[str, Any] | None:
    """What ``recording`` saw, as JSON data for :func:`stale_input`.

    Every file keeps its full ``stat``; files outside the interpreter and its libraries
    (the project's, a checkout on ``PYTHONPATH``), and any file changed within 2 s, also
    keep a content hash, by which they are validated when their ``stat`` changed.

    Returns:
        ``None`` when an input changed since it was read (the load may have read a
        half-written file): nothing is then worth storing.
    """
    with unrecorded():
        return _inputs_of(recording, interpreter_roots())


def _inputs_of(recording: Recording, roots: tuple[str, ...]) -> dict[str, Any] | None:
    now = time.time_ns()
    files: dict[str, Any] = {}
    for path, seen in recording.files.items():
        if _stat_of(path, True) != seen:
            return None
        if seen is None or stat_module.S_ISDIR(seen[5]):
            files[path] = None if seen is None else [seen, None, False]
            continue
        entry = _with_content(path, seen, now, not _installed(path, roots))
        if entry is None:
            return None
        files[path] = entry
    looked: dict[str, dict[str, Any]] = {"stats": {}, "lstats": {}}
    for table, follow in (("stats", True), ("lstats", False)):
        for path, seen in getattr(recording, table).items():
            if _looked_at(path, follow) != seen:
                return None
            regular = seen is not None and stat_module.S_ISREG(seen[5])
            entry = _with_content(path, seen, now, False) if regular else [seen, None, False]
            if entry is None:
                return None
            looked[table][path] = entry
    dirs: dict[str, Any] = {}
    for path, listing in recording.dirs.items():
        if _listing(path, listing is not None and listing.startswith("+")) != listing:
            return None
        seen = _stat_of(path, True)
        racy = seen is not None and max(seen[3], seen[4]) >= now - _RACY_NS
        dirs[path] = [None if racy else seen, listing]
    # The environment the load started from is its input: what the load itself then
    # writes (a library's ``os.environ.setdefault``) follows from it and the files.
    return {"files": files, **looked, "dirs": dirs, "environment": recording.environment}


def _with_content(path: str, seen: list[int], now: int, hashed: bool) -> list[Any] | None:
    """``[stat, content hash or None, racy]`` of a regular file; ``None`` if it changed.

    A file changed within 2 s of now (coarse clocks: a second change may keep its
    ``stat``) is hashed whatever ``hashed`` says, and re-hashed on every check.
    """
    racy = max(seen[3], seen[4]) >= now - _RACY_NS
    if not (racy or hashed):
        return [seen, None, False]
    try:
        content = _hash_file(path)
    except OSError:
        return None
    return [seen, content, racy] if _stat_of(path, True) == seen else None


def stale_input(inputs: dict[str, Any], environment: str | None = None) -> str | None:
    """The first recorded input that changed (``file …``, ``folder …``…), else ``None``.

    Args:
        inputs: What :func:`inputs_of` returned.
        environment: The environment digest to compare with (default: the current one).
    """
    with unrecorded():
        return _stale_input(inputs, environment or environment_digest())


def _same(path: str, content: str | None) -> bool:
    """``path`` still holds ``content`` (``None``: not recorded, so it cannot be told)."""
    if content is None:
        return False
    try:
        return _hash_file(path) == content
    except OSError:
        return False


def _stale_input(inputs: dict[str, Any], environment: str) -> str | None:
    if environment != inputs["environment"]:
        return "the environment"
    for path, seen in inputs["files"].items():
        now = _stat_of(path, True)
        if seen is None:
            if now is not None:
                return f"file {path}"
            continue
        full, content, racy = seen
        if now == full and not racy:
            continue
        if now is None or now[2] != full[2] or not _same(path, content):
            return f"file {path}"
    for table, follow in (("stats", True), ("lstats", False)):
        for path, (full, content, racy) in inputs[table].items():
            if _looked_at(path, follow) != full or (racy and not _same(path, content)):
                return f"path {path}"
    for path, (full, listing) in inputs["dirs"].items():
        fresh = listing is not None and full is not None and _stat_of(path, True) == full
        if not fresh and _listing(path, listing is not None and listing.startswith("+")) != (
            listing
        ):
            return f"folder {path}"
    return None
