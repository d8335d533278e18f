"""Keep Kedro's and MLflow's chatter out of the output while a model is built, logged or run."""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from kedro_ml_lint.quiet import quieted

logger = logging.getLogger("kedro_ml_lint.publishing")

# Loggers Kedro writes INFO records to while a pipeline runs.
_KEDRO_RUN_LOGGERS = (
    "kedro.pipeline.node",
    "kedro.io.core",
    "kedro.io.data_catalog",
    "kedro.io.memory_dataset",
    "kedro.runner.runner",
    "kedro.runner.sequential_runner",
    "kedro.runner.thread_runner",
    "kedro.framework.project",
)

# While a model is built or logged: what each library may still say.
_CHATTY = {"kedro": logging.WARNING, "mlflow": logging.ERROR, "alembic": logging.WARNING}


class _QuietWhilePredicting(logging.Filter):
    """Drop Kedro's INFO/DEBUG records while at least one ``predict`` is running.

    A filter, not ``setLevel``: levels are process-wide state that concurrent requests
    would race on, while a counter under a lock is exact. Records of WARNING and above
    always pass.
    """

    def __init__(self) -> None:
        super().__init__("kedro")
        self._lock = threading.Lock()
        self._active = 0
        self._installed: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not self._active

    def install(self, *names: str) -> None:
        """Attach to these loggers once (a logger's filters do not see its children)."""
        for name in names:
            if name not in self._installed:
                logging.getLogger(name).addFilter(self)
                self._installed.add(name)

    @contextmanager
    def active(self) -> Iterator[None]:
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1


QUIET_WHILE_PREDICTING = _QuietWhilePredicting()
QUIET_WHILE_PREDICTING.install(*_KEDRO_RUN_LOGGERS)


@contextmanager
def quiet_kedro() -> Iterator[None]:
    """Keep Kedro's and MLflow's chatter out of the output while logging.

    Kedro's INFO records (catalog loads, parameter validation), MLflow's notes (database
    migrations, the cloudpickle caution, "add an input example" hints) and library
    warnings say nothing the user can act on here. Errors still show; with the
    ``kedro_ml_lint`` logger at DEBUG nothing is hidden.
    """
    if logger.isEnabledFor(logging.DEBUG):
        yield
        return
    with quieted(_CHATTY), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
