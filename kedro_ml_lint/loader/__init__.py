"""The only reader of projects and of kedro internals.

``Project`` and ``load_project`` load lazily: the cache's warm path imports
``kedro_ml_lint.cache`` and ``kedro_ml_lint.loader.snapshot`` without importing Kedro.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedro_ml_lint.loader.project import Project as Project
    from kedro_ml_lint.loader.project import load_project as load_project

__all__ = ["Project", "load_project"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kedro_ml_lint.loader import project

        return getattr(project, name)
    raise AttributeError(f"module 'kedro_ml_lint.loader' has no attribute {name!r}")
