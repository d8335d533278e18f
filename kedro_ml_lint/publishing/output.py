"""Whatever MLflow and Kedro print while a model is logged reaches the user redacted.

MLflow writes some of its notes straight to ``sys.stdout``/``sys.stderr`` ("🏃 View run …
at: http://user:password@host/#/…" when a run ends, ``eprint`` in ``register_model``),
others through ``logging``; Kedro logs. With credentials in the tracking URI those lines
would carry them. While :func:`redacted_output` is active, every line written to the
process's standard streams and every log record created goes through
``kedro_ml_lint.model.redact.redact_text``, whoever wrote it.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from kedro_ml_lint.model.redact import redact_text

# ``register_model``'s notes, dropped. "already exists": the transaction creates the registered
# model itself (tagged, to roll it back) before registering the version, so MLflow would say
# it of a model this very call created. "Created version": said before the transaction ends,
# so a refused gate or a fault would leave it naming a version the roll-back removed; the
# summary names the version once it is kept.
_MISLEADING = re.compile(
    r"^(Registered model .* already exists\. Creating a new version"
    r"|Created version '[^']*' of model '.*'\.$)"
)


class _RedactingStream(io.TextIOBase):
    """A text stream that writes whole lines, redacted, to ``target``."""

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                if not _MISLEADING.match(line):
                    self._target.write(redact_text(line) + "\n")
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def close_line(self) -> None:
        """Write what is left of an unfinished line (redacted), then flush."""
        with self._lock:
            pending, self._pending = self._pending, ""
        if pending and not _MISLEADING.match(pending):
            self._target.write(redact_text(pending))
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


def _redacting_factory(make: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it as it would have
            return record
        record.msg, record.args = redact_text(message), None
        return record

    return factory


@contextmanager
def redacted_output() -> Iterator[None]:
    """Redact every line printed and every record logged, by anyone, inside the block.

    A record factory rather than a filter per logger: a logger's filter does not see its
    children's records (``mlflow.tracking.fluent``, ``kedro.io.data_catalog``…), and a
    handler may hold a stream captured before this block. Records are redacted when they
    are made, so every handler, Kedro's rich one included, gets the redacted text.
    """
    previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_redacting_factory(previous_factory))
    streams = {name: getattr(sys, name) for name in ("stdout", "stderr")}
    wrappers = {name: _RedactingStream(stream) for name, stream in streams.items()}
    for name, wrapper in wrappers.items():
        setattr(sys, name, wrapper)
    try:
        yield
    finally:
        for name, wrapper in wrappers.items():
            if getattr(sys, name) is wrapper:
                setattr(sys, name, streams[name])
            wrapper.close_line()
        logging.setLogRecordFactory(previous_factory)
