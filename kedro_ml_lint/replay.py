"""Replay: a read-only run whose every input is unchanged prints what it printed last time.

The snapshot cache (docs/design.md §13) skips loading the project, but a warm ``check``
still pays for starting click, the engine, the rules and the renderers: most of its time.
So the command line itself is recorded: from its first line, every file, folder and
environment variable the process reads (the project's load included, or the stored inputs
of the snapshot it was served from), and everything it writes to stdout and stderr. The
next run with the same command line, working directory, terminals and interpreter whose
inputs are all unchanged writes the same bytes and exits with the same code, having
imported nothing but this module and the standard library.

Only runs that read and print are recorded: ``check`` and ``graph`` served through the
snapshot cache, without ``--fix``, ``--diff``, ``--log``, ``--output`` or ``-v``, ending
with exit 0 or 1. Records live in the project's cache folder, sealed like its entries
(:mod:`~kedro_ml_lint.loader.seal`), so ``--no-cache``, ``KEDRO_ML_LINT_NO_CACHE=1`` and
``kedro-ml-lint clean`` reach them too.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TextIO

from kedro_ml_lint import __version__
from kedro_ml_lint.loader.inputs import Recording, inputs_of, note_read, recorded, stale_input
from kedro_ml_lint.loader.seal import opened, sealed
from kedro_ml_lint.vocabulary import CACHE_DIR

FORMAT = "kedro-ml-lint-replay/1"
_PREFIX = "replay-"


class _Copying(io.BufferedIOBase):
    """A byte stream that keeps a copy of everything written to it, in order.

    The text streams of the run are rebuilt on it, so whatever writes text (click,
    ``print``, logging) or wraps ``sys.stdout.buffer`` anew is copied, byte for byte.
    ``written`` is shared by stdout and stderr: a replay interleaves them as the run did.
    """

    def __init__(self, target: Any, fd: int, written: list[tuple[int, bytes]]) -> None:
        super().__init__()
        self.target = target
        self.fd = fd
        self.written = written

    def write(self, data: Any) -> int:
        count: int = self.target.write(data)
        self.written.append((self.fd, bytes(data)))
        return count

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return bool(self.target.isatty())

    def fileno(self) -> int:
        return int(self.target.fileno())


def _copying(stream: TextIO, fd: int, written: list[tuple[int, bytes]]) -> TextIO:
    text = io.TextIOWrapper(  # type: ignore[type-var]  # a BufferedIOBase is what it wraps
        _Copying(stream.buffer, fd, written),
        encoding=stream.encoding,
        errors=stream.errors,
        line_buffering=bool(stream.line_buffering),
        write_through=True,
    )
    return text


class _Session:
    """One recorded command line."""

    def __init__(self, key: dict[str, Any], digest: str) -> None:
        self.key = key  # as it was at the start (the load changes sys.path)
        self.digest = digest
        self.stack = ExitStack()
        self.recording: Recording = self.stack.enter_context(recorded())
        for module in list(sys.modules.values()):  # ours, imported before the recording
            name = getattr(module, "__name__", None) or ""
            if name.startswith(__package__) and getattr(module, "__file__", None):
                note_read(module.__file__)  # type: ignore[arg-type]
        self.streams = (sys.stdout, sys.stderr)
        self.written: list[tuple[int, bytes]] = []
        sys.stdout = _copying(sys.stdout, 1, self.written)
        sys.stderr = _copying(sys.stderr, 2, self.written)
        self.project: Path | None = None  # set when the run may be replayed


_session: _Session | None = None


def _key(argv: list[str]) -> dict[str, Any]:
    """Everything besides recorded inputs that decides what the command line prints."""
    return {
        "format": FORMAT,
        "argv": argv,
        "cwd": os.getcwd(),
        "terminals": [os.isatty(fd) for fd in (0, 1, 2)],  # color, prompts
        "executable": sys.executable,
        "python": sys.version,
        "kedro_ml_lint": __version__,
        "sys_path": sys.path,
    }


def _candidates(argv: list[str]) -> list[Path]:
    """Cache folders the run may have used: above the working directory or a folder named."""
    starts = [os.getcwd()] + [a for a in argv if not a.startswith("-") and os.path.isdir(a)]
    folders: list[Path] = []
    for start in starts:
        folder = Path(os.path.abspath(start))
        for parent in (folder, *folder.parents):
            candidate = parent / CACHE_DIR
            if candidate not in folders:
                folders.append(candidate)
    return folders


def start(argv: list[str]) -> None:
    """Replay the run ``argv`` asks for and exit, or start recording it.

    Args:
        argv: The command line's arguments (``sys.argv[1:]``).
    """
    global _session
    key = _key(argv)
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]
    for folder in _candidates(argv):
        record = _read(folder / f"{_PREFIX}{digest}.json", key)
        if record is not None:
            _replay(record)
    if sys.stdout is not None and sys.stderr is not None:
        _session = _Session(key, digest)


def _read(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """The record at ``path`` when it is ours, for ``key``, and every input is unchanged."""
    try:
        text = opened(path.read_text(encoding="utf-8"))
        if text is None:
            return None
        record = json.loads(text)
        if record.get("key") != key or stale_input(record["inputs"]) is not None:
            return None
        output = record["output"]
        if not isinstance(record["code"], int) or not isinstance(output, list):
            return None
        return record if all(fd in (1, 2) and isinstance(t, str) for fd, t in output) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # absent, unreadable, garbage or foreign: run for real


def _replay(record: dict[str, Any]) -> None:
    streams = {1: sys.stdout, 2: sys.stderr}
    try:
        for fd, text in record["output"]:  # latin-1: each byte one character
            streams[fd].buffer.write(text.encode("latin-1"))
            streams[fd].flush()
    except (OSError, ValueError):  # a closed pipe, as the real run would meet
        pass
    os._exit(record["code"])


def replayable(project: Path) -> None:
    """The running command line may be replayed later; its cache folder is ``project``'s."""
    if _session is not None:
        _session.project = project


def abandon() -> _Session | None:
    """Stop recording: this run will not be replayed (it writes files, logs a model…)."""
    global _session
    session, _session = _session, None
    if session is not None:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            sys.stdout, sys.stderr = session.streams
            session.stack.close()
    return session


def finish(code: int) -> None:
    """Store the record of this run when it may be replayed and exits with ``code``."""
    try:
        session = abandon()
    except (OSError, ValueError):  # a closed pipe: nothing worth replaying
        return
    if session is None or session.project is None or code not in (0, 1):
        return
    folder = session.project / CACHE_DIR
    inputs = inputs_of(session.recording)
    if inputs is None or not folder.is_dir():
        return  # something changed while it ran, or there is no cache to keep it in
    record = {
        "key": session.key,
        "inputs": inputs,
        "output": [[fd, data.decode("latin-1")] for fd, data in session.written],
        "code": code,
    }
    from kedro_ml_lint.loader.cache import write_atomic

    try:
        text = json.dumps(record, separators=(",", ":"), sort_keys=True)
        write_atomic(folder / f"{_PREFIX}{session.digest}.json", sealed(text), folder)
    except (OSError, ValueError):
        pass  # a cache that cannot be written never fails a run
