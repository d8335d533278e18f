"""A Kedro project's settings as Kedro reads them, and Kedro's globals a load changes.

Kedro's settings (``settings.py``) are read through ``kedro.framework.project``; how Kedro
iterates a setting and where it keeps the configured settings (dynaconf's ``_wrapped``) are
version-specific, so they live in this seam (docs/design.md §8).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from kedro_ml_lint.seams.patching import swapped_attribute


def settings_items(settings: ModuleType | None, name: str) -> tuple[Any, ...]:
    """An iterable setting's items (``HOOKS``, ``DISABLE_HOOKS_FOR_PLUGINS``), as Kedro reads it.

    Every item of any iterable, in its order (``_register_hooks`` iterates
    ``settings.HOOKS``, ``_register_hooks_entry_points`` takes ``set(...)`` of the disabled
    plugins; Kedro's settings validators check no type). A string is iterated too, as Kedro
    does: ``"kedro_mlflow"`` disables no plugin.

    An iterator (a generator expression) can be read once: its items are kept on the
    settings module, so every later reader sees what ``kedro run`` would see. A value that
    is not iterable is no item here (``kedro run`` fails on it before any hook runs).
    Checked against Kedro 0.19.15 and 1.7.0 (``kedro/framework/hooks/manager.py``; 0.17 and
    0.18 take the same ``Iterable`` there).
    """
    if settings is None:
        return ()
    value = getattr(settings, name, ())
    if isinstance(value, tuple):
        return value
    try:
        items = tuple(value)
    except TypeError:
        return ()
    if iter(value) is value:
        setattr(settings, name, items)
    return items


@contextmanager
def kedro_globals_restored() -> Iterator[None]:
    """Leave Kedro's ``settings`` and ``PACKAGE_NAME`` as they were before the load.

    The load points them at the project while its code imports; a caller inside a running
    Kedro session (the hook) or loading several projects must not see that afterwards.
    """
    import kedro.framework.project as kedro_project

    # Private: dynaconf's ``LazyObject`` keeps the configured settings in ``_wrapped``
    # (checked against Kedro 0.19.15 and 1.7.0, dynaconf 3.2).

    settings_state = kedro_project.settings.__dict__.get("_wrapped")
    package_name = kedro_project.PACKAGE_NAME
    try:
        yield
    finally:
        kedro_project.settings.__dict__["_wrapped"] = settings_state
        kedro_project.PACKAGE_NAME = package_name


@contextmanager
def stack_without_source() -> Iterator[None]:
    """Kedro's settings configured without dynaconf reading every frame's source.

    Configuring, dynaconf reads the filenames of the stack's frames (``find_file``: the
    invoked script's, ``import_from_filename``: all of them) through ``inspect.stack()``,
    which also reads each frame's line of source: ten times the cost of the filenames, most
    of an in-process load's configuring in a deep stack (a test, the language server's
    worker). For the block, those modules' ``inspect`` is one whose ``stack()`` is the same
    frames with no source context (``inspect.stack(0)``): every ``filename`` is the one
    ``inspect`` computes anyway. Only for a module that reads nothing else from ``inspect``
    than those filenames (checked once, against the installed dynaconf's source); any other
    is left alone.
    """
    with contextlib.ExitStack() as swaps:
        for name, reads in _FILENAME_READERS.items():
            module = sys.modules.get(name)
            if module is not None and _reads_only(getattr(module, "__file__", None), reads):
                swaps.enter_context(swapped_attribute(module, "inspect", _SourcelessInspect()))
        yield


# dynaconf's modules that call inspect.stack(), and the one expression each uses it in.
_FILENAME_READERS = {
    "dynaconf.utils.files": "inspect.stack()[-1].filename",
    "dynaconf.loaders.py_loader": "[item.filename for item in inspect.stack()]",
}


@functools.lru_cache(maxsize=8)
def _reads_only(source_file: str | None, expression: str) -> bool:
    try:
        with open(str(source_file), encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError):
        return False
    return source.count("inspect.") == 1 and source.count(expression) == 1


class _SourcelessInspect:
    """``inspect`` whose ``stack()`` has no source context; the rest is ``inspect``'s."""

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    @staticmethod
    def stack(context: int = 1) -> list[inspect.FrameInfo]:
        return inspect.getouterframes(sys._getframe(1), 0)
