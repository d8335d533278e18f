"""What the installed MLflow accepts, read from its source without importing it (KML205).

Importing MLflow costs seconds, which ``check`` never pays (docs/design.md §10): the
parameters of ``mlflow.pyfunc.log_model`` are read from the installed file's syntax tree.
Checked against MLflow 2.x and 3.x, where ``log_model`` is a plain ``def`` in
``mlflow/pyfunc/__init__.py``.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path

from kedro_ml_lint.loader.compat import distribution_version


def installed_version() -> str | None:
    """The installed MLflow's version (full or skinny); ``None`` when it is not installed."""
    return distribution_version("mlflow") or distribution_version("mlflow-skinny")


@cache
def log_model_parameters() -> frozenset[str] | None:
    """The parameters of the installed ``mlflow.pyfunc.log_model``; ``None`` when unknown."""
    if installed_version() is None:
        return None  # a folder named `mlflow` on the path is not MLflow
    try:
        spec = importlib.util.find_spec("mlflow")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "pyfunc" / "__init__.py"
    try:
        tree = ast.parse(source.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == "log_model":
            arguments = statement.args
            if arguments.kwarg is not None:
                return None  # takes anything: nothing to check
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
            return frozenset(argument.arg for argument in every)
    return None
