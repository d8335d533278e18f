"""Progress of long steps on stderr, for someone watching: a terminal, or ``-v``.

A step says nothing unless it is still running after :data:`THRESHOLD` seconds; then it
says what it is doing and, when it ends, how long it took. CI logs (stderr not a terminal,
no ``-v``) get nothing: no line, no thread.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

THRESHOLD = 1.0  # seconds: a step quicker than this is not worth a line
PREFIX = "kedro-ml-lint: "


class Progress:
    """Says on a stream what a step over :data:`THRESHOLD` seconds is doing.

    Args:
        enabled: ``False`` makes every step silent (and free).
        stream: Where to write; default: ``sys.stderr`` at the time of writing.
        threshold: How long a step runs before it is announced, in seconds.
    """

    def __init__(
        self, enabled: bool, stream: IO[str] | None = None, threshold: float = THRESHOLD
    ) -> None:
        self.enabled = enabled
        self._stream = stream
        self._threshold = threshold
        self._lock = threading.Lock()

    @classmethod
    def for_stderr(cls, verbose: bool) -> Progress:
        """On when stderr is a terminal or ``verbose`` (``-v``); off in CI logs."""
        return cls(enabled=verbose or _isatty(sys.stderr))

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        """Announce ``what`` (``"logging the model of `training`"``) if it runs long.

        Args:
            what: The step, as the end of a sentence.
        """
        if not self.enabled:
            yield
            return
        started = time.monotonic()
        announced = threading.Event()

        def announce() -> None:
            announced.set()
            self._say(f"{what}…")

        timer = threading.Timer(self._threshold, announce)
        timer.daemon = True  # never keeps the process alive
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            timer.join()  # an announcement under way is written before the end line
            if announced.is_set():
                self._say(f"{what}: {time.monotonic() - started:.1f} s")

    def _say(self, text: str) -> None:
        stream = self._stream or sys.stderr
        with self._lock:
            try:
                stream.write(PREFIX + text + "\n")
                stream.flush()
            except (OSError, ValueError):  # a closed or broken stream: progress is optional
                pass


NO_PROGRESS = Progress(enabled=False)


def _isatty(stream: IO[str] | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False
