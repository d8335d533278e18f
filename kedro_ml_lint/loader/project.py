"""Load a Kedro project without running it: metadata, config, registry, catalog."""

from __future__ import annotations

import importlib
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro_ml_lint.errors import (
    KedroMlLintError,
    NotAKedroProjectError,
    ProjectCodeError,
    ProjectConfigError,
)
from kedro_ml_lint.loader.capture import captured_factories
from kedro_ml_lint.loader.catalog import CatalogIndex, CatalogView, config_files
from kedro_ml_lint.loader.config_errors import config_error, relative
from kedro_ml_lint.loader.lite import (
    KEDRO_MLFLOW,
    imported_modules,
    missing_modules,
    mocked_modules,
)
from kedro_ml_lint.loader.pyproject import kedro_metadata, lint_table, read_pyproject
from kedro_ml_lint.model.names import flatten_parameter_keys


class ConfigSource:
    """The project's configuration as its own config loader reads it.

    Args:
        make_loader: Builds a fresh config loader (nothing is cached between reads).
        root: The project root, for messages.
    """

    def __init__(self, make_loader: Callable[[], Any], root: Path) -> None:
        self._make_loader = make_loader
        self._root = root

    def read(self, key: str) -> dict[str, Any]:
        """The merged configuration for ``key`` (``catalog``, ``parameters``…), read now.

        Raises:
            ProjectConfigError: When the files cannot be read or merged; it names the file.
        """
        return _read_config(self._make_loader(), key, self._root)

    def files(self, key: str) -> list[Path]:
        """The files read for ``key``, run environment first."""
        return _config_files(self._make_loader(), key)


@dataclass
class Project:
    """A loaded Kedro project: everything the linter reads, nothing instantiated.

    Attributes:
        root: The project root (holds ``pyproject.toml``).
        package_name: The project's Python package.
        package_dir: Where that package's sources are (``<root>/<source_dir>/<package>``).
        lint_config: The ``[tool.kedro-ml-lint]`` table.
        registry: The pipeline registry, name -> pipeline.
        catalog: Static resolution of dataset names.
        catalog_index: Where each catalog key is written.
        parameter_keys: Every ``params:`` name the parameters define.
        config: Reads configuration again the way this load read it (same loader class,
            environment and source): ``--fix`` reads its edit back through it.
        warnings: Things the user should know that did not stop the analysis.
    """

    root: Path
    package_name: str
    package_dir: Path
    lint_config: dict[str, Any]
    registry: dict[str, Any]
    catalog: CatalogView
    catalog_index: CatalogIndex
    parameter_keys: frozenset[str]
    config: ConfigSource
    warnings: list[str] = field(default_factory=list)

    def relative(self, filename: str) -> str | None:
        """``filename`` relative to the root, ``None`` when it lies outside the project."""
        try:
            return Path(filename).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None


def load_project(
    project_dir: str | Path,
    env: str | None = None,
    conf_source: str | None = None,
    lite: bool = True,
) -> Project:
    """Load the project at ``project_dir`` statically.

    Args:
        project_dir: The project root.
        env: The run environment layered over ``base`` (Kedro's default when ``None``).
        conf_source: Another configuration folder than ``conf/``.
        lite: Mock third-party modules the project imports but that are not installed.

    Raises:
        KedroMlLintError: When the project cannot be read; the message names the file.
    """
    root = Path(project_dir).expanduser().resolve()
    if not root.is_dir():
        raise NotAKedroProjectError(f"`{project_dir}` is not a folder")
    pyproject = read_pyproject(root)
    metadata = kedro_metadata(pyproject, root)
    package_name = metadata["package_name"]
    source_dir = root / metadata.get("source_dir", "src")
    package_dir = source_dir / package_name
    if not package_dir.is_dir():
        raise NotAKedroProjectError(
            f"the package `{package_name}` named in `[tool.kedro]` is not at "
            f"`{relative(package_dir, root)}`",
            "pyproject.toml",
        )
    notes: list[str] = []
    imported = imported_modules(package_dir)
    missing = missing_modules(imported, package_name) if lite else []
    if missing:
        notes.append(
            "lite import: mocked modules the project imports but that are not installed: "
            + ", ".join(f"`{m}`" for m in missing)
            + " (use --no-lite to import them for real)"
        )
    with (
        _project_imports(package_name, source_dir),
        mocked_modules(imported, missing),
        warnings.catch_warnings(),
    ):
        # Libraries' deprecation chatter is not the user's concern while linting.
        warnings.simplefilter("ignore")
        _bootstrap(root)
        config_loader = _config_loader(root, env, conf_source)
        catalog_config = _read_config(config_loader, "catalog", root)
        parameters = _read_config(config_loader, "parameters", root)
        uses_kedro_mlflow = any(m.split(".", 1)[0] == KEDRO_MLFLOW for m in imported)
        if uses_kedro_mlflow and KEDRO_MLFLOW not in missing:
            importlib.import_module("kedro_mlflow.pipeline")
        registry = _load_registry(root, package_dir, notes)
    index = CatalogIndex(root, _config_files(config_loader, "catalog"))
    try:
        catalog = CatalogView(catalog_config)
    except ProjectConfigError as exc:
        position = index.first_mentioned_in(exc.message)
        if position is not None:
            exc.path, exc.line = position.path, position.line
        raise
    return Project(
        root=root,
        package_name=package_name,
        package_dir=package_dir,
        lint_config=lint_table(pyproject),
        registry=registry,
        catalog=catalog,
        catalog_index=index,
        parameter_keys=flatten_parameter_keys(parameters),
        config=ConfigSource(lambda: _config_loader(root, env, conf_source), root),
        warnings=notes,
    )


@contextmanager
def _project_imports(package_name: str, source_dir: Path) -> Iterator[None]:
    """Import the project fresh, from its own source folder.

    Modules a previous load left under the same name are dropped, and the source folder goes
    first on ``sys.path``: ``bootstrap_project`` leaves an entry that is already there where
    it is, so another copy of a same-named project would win.
    """
    for name in [m for m in sys.modules if m == package_name or m.startswith(package_name + ".")]:
        del sys.modules[name]
    source = str(source_dir.resolve())
    while source in sys.path:
        sys.path.remove(source)
    sys.path.insert(0, source)
    importlib.invalidate_caches()
    yield


def _bootstrap(root: Path) -> None:
    from kedro.framework.startup import bootstrap_project

    try:
        bootstrap_project(root)
    except KedroMlLintError:
        raise
    except Exception as exc:
        raise _code_error(exc, root, "the project's settings could not be loaded") from exc


def _config_loader(root: Path, env: str | None, conf_source: str | None) -> Any:
    from kedro.framework.project import settings

    source = Path(conf_source).expanduser() if conf_source else root / settings.CONF_SOURCE
    if not source.is_absolute():
        source = (Path.cwd() / source).resolve()
    if not source.exists():
        raise NotAKedroProjectError(
            f"the configuration folder `{relative(source, root)}` does not exist"
            + ("" if conf_source else "; a Kedro project keeps its configuration in `conf/`")
        )
    args = dict(settings.CONFIG_LOADER_ARGS)
    try:
        return settings.CONFIG_LOADER_CLASS(conf_source=str(source), env=env, **args)
    except Exception as exc:
        raise ProjectConfigError(f"the config loader could not start: {exc}") from exc


def _read_config(config_loader: Any, key: str, root: Path) -> dict[str, Any]:
    from kedro.config import MissingConfigException

    try:
        config = config_loader[key]
    except (KeyError, MissingConfigException):
        return {}
    except Exception as exc:
        raise config_error(exc, key, _config_files(config_loader, key), root) from exc
    if not isinstance(config, Mapping):
        raise ProjectConfigError(f"the {key} configuration is not a mapping")
    return dict(config)


def _config_files(config_loader: Any, key: str) -> list[Path]:
    """The files the config loader reads for ``key``, run environment first."""
    patterns = getattr(config_loader, "config_patterns", {}).get(key, [f"{key}*"])
    base_env = getattr(config_loader, "base_env", "base") or "base"
    run_env = getattr(config_loader, "env", None) or getattr(config_loader, "default_run_env", "")
    envs = [e for e in (run_env, base_env) if e]
    conf_source = Path(getattr(config_loader, "conf_source", "conf"))
    return config_files(conf_source, list(dict.fromkeys(envs)), patterns)


def _load_registry(root: Path, package_dir: Path, notes: list[str]) -> dict[str, Any]:
    from kedro.framework.project import pipelines

    with ExitStack() as stack:
        stack.enter_context(captured_factories())
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("always")
        try:
            registry = (
                pipelines._load_data() if hasattr(pipelines, "_load_data") else dict(pipelines)
            )
        except KedroMlLintError:
            raise
        except Exception as exc:
            registry_file = relative(package_dir / "pipeline_registry.py", root)
            if (
                isinstance(exc, ModuleNotFoundError)
                and exc.name == f"{package_dir.name}.pipeline_registry"
            ):
                raise ProjectCodeError(
                    "the project has no pipeline registry; Kedro reads the pipelines from "
                    "`register_pipelines()` in this file",
                    registry_file,
                ) from exc
            error = _code_error(exc, root, "the pipeline registry could not be loaded")
            error.path = error.path or registry_file
            raise error from exc
    for warning in caught:
        text = str(warning.message)
        if "find_pipelines" in text or "error occurred while importing" in text:
            notes.append(text.splitlines()[0])
    if not isinstance(registry, Mapping):
        raise ProjectCodeError(
            f"`register_pipelines()` returned a {type(registry).__name__}, not a dict of pipelines",
            relative(package_dir / "pipeline_registry.py", root),
        )
    return dict(registry)


def _code_error(exc: BaseException, root: Path, what: str) -> ProjectCodeError:
    """Point at the deepest frame of the project's own code that raised."""
    path, line = None, None
    if isinstance(exc, SyntaxError) and exc.filename:
        path, line = relative(Path(exc.filename), root), exc.lineno
        detail = f"syntax error: {exc.msg}"
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if _is_inside(Path(frame.filename), root):
                path, line = relative(Path(frame.filename), root), frame.lineno
        detail = (
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        )
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            detail += " (install it, or drop --no-lite to mock missing modules)"
    return ProjectCodeError(f"{what}: {detail}".rstrip(": "), path, line)


def _is_inside(path: Path, root: Path) -> bool:
    try:
        return path.is_file() and path.resolve().is_relative_to(root)
    except OSError:
        return False
