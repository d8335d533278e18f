"""A Kedro project's settings as Kedro reads them, and Kedro's globals a load changes.

Kedro's settings (``settings.py``) are read through ``kedro.framework.project``; how Kedro
iterates a setting and where it keeps the configured settings (dynaconf's ``_wrapped``) are
version-specific, so they live in this seam (docs/design.md §8).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any


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
