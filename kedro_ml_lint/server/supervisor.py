"""The server's side of the worker: start it, ask it, time it out, restart it.

One long-lived child process (:mod:`kedro_ml_lint.server.worker`) answers one request at a
time. When it does not answer within the timeout, or dies, the request fails with a
:class:`WorkerFailure` that says where the project was (from the stack the worker's
:mod:`faulthandler` dumped), and the next request starts a new worker.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# faulthandler's lines: `  File "/p/x.py", line 5 in register_pipelines`.
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')
# How long past its own timeout a worker gets to dump its stack and exit before it is killed.
GRACE = 2.0


@dataclass
class WorkerFailure(Exception):
    """The worker hung or died: the load could not finish.

    Attributes:
        message: What happened, one line.
        path: The project file it was in (absolute), when the stack named one.
        line: The 1-based line there.
    """

    message: str
    path: str | None = None
    line: int | None = None


class Worker:
    """A worker process, started on first use and again after a failure.

    Args:
        python: The interpreter to run it with (the server's own).
        env: Its environment (the server's, unless given).
    """

    def __init__(self, python: str = sys.executable, env: dict[str, str] | None = None) -> None:
        self._python = python
        self._env = env
        self._process: subprocess.Popen[str] | None = None
        self._stderr: deque[str] = deque(maxlen=400)
        self._replies: deque[str] = deque()
        self._ended = False  # the current worker's stdout reached its end
        self._arrived = threading.Condition()
        self._counter = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker now (the server does at initialization, to be warm)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        # The environment as it is: the cache keys on it (the worker writes no bytecode).
        env = dict(self._env if self._env is not None else os.environ)
        process = subprocess.Popen(
            [self._python, "-m", "kedro_ml_lint.server.worker", sys.path[0]],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,  # never the server's stdout: that is the LSP stream
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
            start_new_session=True,  # the editor's Ctrl-C is not the worker's
        )
        self._stderr = deque(maxlen=400)
        self._replies = deque()
        self._ended = False
        self._process = process
        threading.Thread(target=self._read, args=(process,), daemon=True).start()
        threading.Thread(target=self._drain, args=(process,), daemon=True).start()
        return process

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._arrived:
                if process is self._process:
                    self._replies.append(line)
                    self._arrived.notify_all()
        with self._arrived:  # EOF: whoever waits sees the process gone
            # Said here, not left to `poll()`: the kernel closes a dying process's pipes
            # before it can be reaped, and a waiter woken in between would see it running
            # and wait out the whole timeout (under load, a crash took 30 s to report).
            if process is self._process:
                self._ended = True
            self._arrived.notify_all()

    def _drain(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        for line in process.stderr:  # a full stderr pipe would block the worker
            self._stderr.append(line)

    def request(self, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and wait for its reply.

        Raises:
            WorkerFailure: The worker did not answer within ``timeout`` seconds, or died.
        """
        with self._lock:
            process = self._ensure()
            self._counter += 1
            ident = self._counter
            assert process.stdin is not None
            try:
                process.stdin.write(json.dumps({**payload, "id": ident, "timeout": timeout}) + "\n")
                process.stdin.flush()
            except OSError:
                raise self._failure(process, "the worker process could not be started") from None
            deadline = time.monotonic() + timeout + GRACE
            with self._arrived:
                done = self._arrived.wait_for(
                    lambda: bool(self._replies) or self._ended or process.poll() is not None,
                    timeout=timeout + GRACE,
                )
                line = self._replies.popleft() if self._replies else None
            if line is not None:
                reply: dict[str, Any] = json.loads(line)
                return reply
            if done:
                try:  # its output ended: it is exiting (within what is left of the time)
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    done = False
            if not done:
                self._kill(process)
            raise self._failure(process, self._why(process, timeout, timed_out=not done))

    def _why(self, process: subprocess.Popen[str], timeout: float, timed_out: bool) -> str:
        if timed_out or "Timeout (" in "".join(self._stderr):
            return f"it did not finish within {timeout:g} s (the timeout can be set)"
        code = process.returncode
        if code is not None and code < 0:
            return f"the worker process was killed by signal {-code}"
        return f"the worker process exited with code {code}"

    def _failure(self, process: subprocess.Popen[str], message: str) -> WorkerFailure:
        self._process = None
        path, line = innermost_project_frame("".join(self._stderr), self._roots)
        return WorkerFailure(message, path, line)

    _roots: tuple[Path, ...] = ()

    def looking_in(self, *roots: Path) -> None:
        """Name the folders whose files count as the project's in a dumped stack."""
        self._roots = roots

    def _kill(self, process: subprocess.Popen[str]) -> None:
        process.kill()
        process.wait()
        with self._arrived:  # a request waiting on it sees it gone now, not at its timeout
            self._arrived.notify_all()

    def stop(self) -> None:
        """End the worker (closing its stdin ends it; a stuck one is killed).

        Never waits for the request in flight (a hung load would hold the editor's shutdown
        for the whole timeout): that request fails as the worker goes.
        """
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            assert process.stdin is not None
            process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self._kill(process)
        with self._arrived:
            self._arrived.notify_all()


def innermost_project_frame(dump: str, roots: tuple[Path, ...]) -> tuple[str | None, int | None]:
    """The most recent frame under one of ``roots`` in a faulthandler or traceback dump.

    faulthandler lists the most recent call first (a traceback, last): the last dump's
    main thread is read, and its first frame in the project wins.
    """
    start = max(dump.rfind("Timeout ("), dump.rfind("Fatal Python error"), 0)
    frames = [m for m in map(_FRAME.match, dump[start:].splitlines()) if m]
    if "Traceback (most recent call last)" in dump[start:]:
        frames.reverse()
    for match in frames:
        path = Path(match.group("file"))
        if any(path.is_relative_to(root) for root in roots) and "site-packages" not in path.parts:
            return str(path), int(match.group("line"))
    return None, None
