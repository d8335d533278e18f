"""SIGINT and SIGTERM while ``--log`` touches the tracking store (docs/design.md §6).

While a transaction runs, a signal raises an exception that unwinds into the roll-back;
during the roll-back further signals are noted, not obeyed; afterwards the first one goes to
the handler it would have reached. Only in the main thread (Python delivers signals there),
and never for a signal the process ignores (``nohup``).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kedro_ml_lint.errors import Interrupted

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Signalled(BaseException):
    """Raised by the handler in place while logging: unwinds into the roll-back."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass
class SignalState:
    """The handlers in place while logging, and what arrived when it could not be obeyed.

    Attributes:
        previous: Each signal's handler before logging started.
        received: The signals that waited, first one first.
        committed: Set at the commit point: a signal from then on waits for the end.
        unwinding: Set once a signal started the roll-back.
        note: What the interrupted transaction left behind, for the CLI's one line.
    """

    previous: dict[int, Any] = field(default_factory=dict)
    received: list[int] = field(default_factory=list)
    committed: bool = False
    unwinding: bool = False
    note: str = ""


def signal_of(exc: BaseException) -> int | None:
    """The signal that ``exc`` stands for, if any."""
    if isinstance(exc, Signalled | Interrupted):
        return exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return int(signal.SIGINT)
    return None


@contextmanager
def signals_raise() -> Iterator[SignalState]:
    """While logging, SIGINT and SIGTERM raise an exception that unwinds into the roll-back.

    Once the call committed, a signal waits for the end of the block; on the way out the
    previous handlers come back and each signal that waited is handed on to them
    (:func:`_hand_on`).
    """
    state = SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def raise_or_wait(signum: int, frame: Any) -> None:
        if state.committed or state.unwinding:  # a second signal: the roll-back runs
            state.received.append(signum)
            return
        state.unwinding = True
        raise Signalled(signum)

    for number in SIGNALS:
        previous = signal.getsignal(number)
        if previous is signal.SIG_IGN:
            continue
        state.previous[number] = previous
        signal.signal(number, raise_or_wait)
    try:
        yield state
    except Interrupted as exc:
        _restore(state)
        _hand_on(exc.signum, state, exc)
        raise
    finally:
        _restore(state)
    if state.received:
        _hand_on(state.received[0], state, None)


@contextmanager
def signals_deferred(state: SignalState) -> Iterator[None]:
    """During a roll-back, SIGINT and SIGTERM are noted, not obeyed.

    A roll-back cut short would leave exactly what it is there to remove; it is bounded
    (once the store is found gone, no further request is sent) and the journal covers a
    SIGKILL. The first signal still decides the exit code.
    """
    state.unwinding = True
    if not state.previous:
        yield
        return

    def wait(signum: int, frame: Any) -> None:
        state.received.append(signum)
        logger.warning(
            "kedro-ml-lint: removing what this `--log` created, then stopping "
            "(SIGKILL skips the clean-up; the next `--log` to this store does it)"
        )

    for number in state.previous:
        signal.signal(number, wait)
    yield


def _restore(state: SignalState) -> None:
    for number, previous in state.previous.items():
        signal.signal(number, previous if previous is not None else signal.SIG_DFL)


def _hand_on(signum: int, state: SignalState, exc: Interrupted | None) -> None:
    """Give a signal, once the store is clean, to the handler it would have gone to.

    Python's own ``SIGINT`` handler raises ``KeyboardInterrupt``; the default ``SIGTERM``
    action ends the process (status 143), as without kedro-ml-lint; a handler of the caller
    (the CLI's, which raises :class:`~kedro_ml_lint.errors.Interrupted`) runs. Returns only
    when no handler stopped the process or raised: the caller then raises ``exc``.
    """
    previous = state.previous.get(signum, signal.SIG_DFL)
    note = exc.note if exc is not None else "logging had finished: the models were kept"
    if previous is signal.SIG_DFL or previous is None:
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)
    elif callable(previous):
        try:
            previous(signum, None)
        except Interrupted as delivered:
            delivered.note = delivered.note or note
            raise
    if exc is None:
        raise Interrupted(signum, note)
