"""The project's real ``DataCatalog``, built by its own context class with no hook registered.

An *empty* hook manager: no project hook and no plugin hook (kedro-mlflow's auto-registered
``MlflowHook`` among them) runs, so none can switch the tracking URI or open a run.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path
from typing import Any

from kedro_ml_lint.publishing.errors import PublishError
from kedro_ml_lint.quiet import logging_kept


def project_catalog(
    project_root: str | Path, env: str | None = None, conf_source: str | None = None
) -> tuple[str, Any]:
    """The project's real ``DataCatalog``, built with no hook registered.

    Args:
        project_root: The project root.
        env: The configuration environment.
        conf_source: Another configuration folder than ``conf/``.

    Returns:
        ``(package name, catalog)``.

    Raises:
        PublishError: When the catalog cannot be built.
    """
    from kedro.framework import project as kedro_project
    from kedro.framework.startup import bootstrap_project

    root = Path(project_root).resolve()
    try:
        with warnings.catch_warnings():  # Kedro's own deprecation notes (omegaconf resolvers)
            warnings.simplefilter("ignore")
            if kedro_project.PACKAGE_NAME is None or not _project_of_package(root):
                with logging_kept():  # Kedro configures logging again for a new package
                    metadata = bootstrap_project(root)
                    if _forget_other_checkout(metadata.package_name, root):
                        # Its settings were read from the other checkout's module: again.
                        kedro_project.configure_project(metadata.package_name)
            package_name = str(kedro_project.PACKAGE_NAME)
            settings = kedro_project.settings
            source = Path(conf_source).expanduser() if conf_source else root / settings.CONF_SOURCE
            config_loader = settings.CONFIG_LOADER_CLASS(
                conf_source=str(source.resolve()), env=env, **settings.CONFIG_LOADER_ARGS
            )
            catalog = catalog_from_config_loader(config_loader, root, package_name, env=env)
    except Exception as exc:
        raise PublishError(f"the project's catalog could not be built: {exc}") from exc
    return package_name, catalog


def catalog_from_config_loader(
    config_loader: Any, project_root: Path, package_name: str, env: str | None = None
) -> Any:
    """Build the catalog the project's context class builds, with an empty hook manager."""
    from kedro.framework.project import settings

    from kedro_ml_lint.seams.kedro_private import empty_hook_manager

    context = settings.CONTEXT_CLASS(
        package_name=package_name,
        project_path=project_root,
        config_loader=config_loader,
        env=env,
        hook_manager=empty_hook_manager(),
    )
    return context.catalog


def _forget_other_checkout(package_name: str, root: Path) -> bool:
    """Drop the modules of ``package_name`` imported from outside ``root``.

    A process that builds the catalogs of two checkouts of one package (a test session, a
    notebook) would otherwise run the first one's registry and settings for the second.
    Returns whether any module was dropped.
    """
    import sys

    stale = [
        name
        for name, module in list(sys.modules.items())
        if (name == package_name or name.startswith(package_name + "."))
        and (location := getattr(module, "__file__", None)) is not None
        and root not in Path(location).resolve().parents
    ]
    for name in stale:
        del sys.modules[name]
    return bool(stale)


def _project_of_package(root: Path) -> bool:
    """Whether the configured Kedro project is the one at ``root``."""
    from kedro.framework.project import PACKAGE_NAME

    try:
        module = importlib.import_module(str(PACKAGE_NAME))
    except ImportError:
        return False
    location = getattr(module, "__file__", None)
    return location is not None and root in Path(location).resolve().parents
