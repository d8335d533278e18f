"""Quieting other libraries' loggers: the one way levels are raised and put back (design §8).

A level is process-wide state, so these suit a process that runs one thing at a time (the
command line, ``log_models``). A served model answers concurrent requests and uses a filter
instead (``publishing/quiet.py``, ``QUIET_WHILE_PREDICTING``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# Kedro reads this when `kedro.framework.project` is first imported.
KEDRO_LOGGING_CONFIG = "KEDRO_LOGGING_CONFIG"


def raise_levels(levels: Mapping[str, int]) -> dict[str, int]:
    """Raise each named logger to at least its level; never lower one.

    Returns:
        The level each logger had (``NOTSET`` when it inherited), for :func:`restore_levels`.
    """
    previous = {}
    for name, level in levels.items():
        named = logging.getLogger(name)
        previous[name] = named.level
        if named.getEffectiveLevel() < level:
            named.setLevel(level)
    return previous


def restore_levels(previous: Mapping[str, int]) -> None:
    """Put back the levels :func:`raise_levels` returned."""
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)


@contextmanager
def quieted(levels: Mapping[str, int]) -> Iterator[None]:
    """:func:`raise_levels` for the duration of the ``with`` block."""
    previous = raise_levels(levels)
    try:
        yield
    finally:
        restore_levels(previous)


@contextmanager
def logging_kept() -> Iterator[None]:
    """The process's logging after the block as it was before, whatever the block configured.

    Bootstrapping a project, Kedro applies its logging configuration again (``dictConfig``,
    once per new package): the root's handlers are replaced and the ``kedro`` logger's level
    reset, which undid a caller's quieting (Kedro's INFO records then reached the report) and
    dropped a caller's own handlers. Every existing logger's level, handlers, propagation and
    state, and the root's, are put back.
    """
    manager = logging.Logger.manager
    loggers = [logging.root] + [
        logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    kept = [(lg, lg.level, lg.handlers[:], lg.propagate, lg.disabled) for lg in loggers]
    try:
        yield
    finally:
        for logger, level, handlers, propagate, disabled in kept:
            logger.setLevel(level)
            logger.handlers[:] = handlers
            logger.propagate, logger.disabled = propagate, disabled


def quiet_kedro_as_check_does() -> None:
    """Kedro's logging as ``check`` (without ``-v``) has it: errors only, on stderr.

    Points ``KEDRO_LOGGING_CONFIG`` at kedro_ml_lint/logging.yml, so it must run before the
    first Kedro import, and raises the ``kedro`` logger to ``ERROR``. ``check`` and the
    language server's worker both call it: the cache and the import records key on the
    environment, so the worker shares ``check``'s entries only with the same variable.
    """
    config = Path(__file__).resolve().with_name("logging.yml")  # no importlib.resources
    os.environ[KEDRO_LOGGING_CONFIG] = str(config)
    raise_levels({"kedro": logging.ERROR})
