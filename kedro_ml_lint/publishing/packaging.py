"""Packaging the model's code: the project's modules by value, and ``code_paths``."""

from __future__ import annotations

import importlib
import shutil
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kedro_ml_lint.publishing.errors import PublishError

# Never pickled by value: our model class is imported from kedro-ml-lint itself.
_BY_REFERENCE = frozenset({"kedro_ml_lint", "__main__"})


# --------------------------------------------------------------------------- code by value


def project_packages(pipeline: Any) -> list[str]:
    """Top-level packages of the node functions that are the project's own code.

    Project code is what lies outside the environment's install folders (site-packages
    and the standard library): an editable install of the project counts as project code,
    since the serving environment will not have it.
    """
    install_dirs = {
        Path(path).resolve()
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (path := sysconfig.get_paths().get(key))
    }
    packages: set[str] = set()
    for node in pipeline.nodes:
        func = node.func
        while hasattr(func, "func"):  # functools.partial and friends
            func = func.func
        top = str(getattr(func, "__module__", "") or "").split(".", 1)[0]
        if not top or top in _BY_REFERENCE or top in packages:
            continue
        module = sys.modules.get(top)
        location = getattr(module, "__file__", None)
        if location is None:
            continue  # a namespace or built-in module: nothing to pickle by value
        if not any(folder in Path(location).resolve().parents for folder in install_dirs):
            packages.add(top)
    return sorted(packages)


def pickle_by_value(pipeline: Any) -> bytes:
    """``pipeline`` pickled with cloudpickle, the project's own packages by value."""
    import cloudpickle

    with _by_value(project_packages(pipeline)):
        return bytes(cloudpickle.dumps(pipeline))


@contextmanager
def _by_value(packages: list[str]) -> Iterator[None]:
    import cloudpickle

    registered = []
    try:
        for name in packages:
            if name not in cloudpickle.list_registry_pickle_by_value():
                cloudpickle.register_pickle_by_value(sys.modules[name])
                registered.append(name)
        yield
    finally:
        for name in registered:
            cloudpickle.unregister_pickle_by_value(sys.modules[name])


# --------------------------------------------------------------------------- code_paths


def stage_code(target: Path, package_name: str, package_dir: Path | None = None) -> list[str]:
    """Clean copies of the project's package and of kedro-ml-lint, for ``code_paths``.

    The project's package is where the node functions live; ours is where
    ``KedroPipelineModel`` is. Shipping both makes the model run in any environment that
    has its pip requirements, from any folder.

    Args:
        target: An empty folder to copy the packages into.
        package_name: The project's package.
        package_dir: Its folder, as the loader found it (``Project.package_dir``); else
            where the package imports from.
    """
    from kedro_ml_lint import _version  # its folder is the package's: no root import

    paths = []
    for name, source in (
        (package_name, package_dir or _imported_package_dir(package_name)),
        ("kedro_ml_lint", Path(_version.__file__).parent),
    ):
        if source is None:
            raise PublishError(f"cannot find the source of package `{name}` to ship with the model")
        destination = target / name
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        paths.append(str(destination))
    return paths


def _imported_package_dir(package_name: str) -> Path | None:
    """Where ``package_name`` imports from (the hook's case: the project is running)."""
    try:
        module_file = getattr(importlib.import_module(package_name), "__file__", None)
    except ImportError:
        return None
    return Path(module_file).parent if module_file else None
