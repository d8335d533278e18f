"""Lite import: let a project's registry load when its third-party imports are missing.

The technique is kedro-viz ``--lite``'s: scan the project's sources for imports, and put
a ``MagicMock`` in ``sys.modules`` for every module that cannot be found. Node functions
are never called, so a mocked ``sklearn`` costs nothing but a warning.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from unittest.mock import MagicMock

KEDRO_MLFLOW = "kedro_mlflow"


def imported_modules(package_dir: Path) -> set[str]:
    """Every absolute module name imported anywhere under ``package_dir``.

    Files that do not parse are skipped: importing them reports the syntax error
    with its file and line.
    """
    names: set[str] = set()
    for path in sorted(package_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError, OSError):
            continue
        for stmt in ast.walk(tree):
            if isinstance(stmt, ast.Import):
                names.update(alias.name for alias in stmt.names)
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
                names.add(stmt.module)
                names.update(f"{stmt.module}.{alias.name}" for alias in stmt.names)
    return names


def missing_modules(names: Iterable[str], own_package: str) -> list[str]:
    """The top-level packages among ``names`` that are neither installed nor the project's."""
    tops = {name.split(".", 1)[0] for name in names}
    tops -= {own_package, *sys.stdlib_module_names}
    return sorted(top for top in tops if top not in sys.modules and not _findable(top))


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@contextmanager
def mocked_modules(names: Iterable[str], missing: list[str]) -> Iterator[None]:
    """Put mocks for ``missing`` packages (and their imported submodules) in ``sys.modules``.

    ``kedro_mlflow`` gets a real stand-in instead of a mock, so a registry that calls
    kedro-mlflow's ``pipeline_ml_factory`` still yields a checkable pair.
    """
    added: dict[str, ModuleType] = {}
    for name in sorted(names):
        top = name.split(".", 1)[0]
        if top not in missing:
            continue
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            dotted = ".".join(parts[:depth])
            if dotted not in sys.modules and dotted not in added:
                added[dotted] = _stand_in(dotted)
    sys.modules.update(added)
    try:
        yield
    finally:
        for dotted in added:
            sys.modules.pop(dotted, None)


def _stand_in(dotted: str) -> ModuleType:
    if dotted.split(".", 1)[0] != KEDRO_MLFLOW:
        return MagicMock(name=dotted)
    from kedro_ml_lint import pipeline_ml

    module = ModuleType(dotted)
    module.__path__ = []  # a package, so submodule imports resolve through sys.modules
    module.pipeline_ml_factory = pipeline_ml.pipeline_ml_factory  # type: ignore[attr-defined]
    module.PipelineML = pipeline_ml.PipelineML  # type: ignore[attr-defined]
    return module
