"""Load a Kedro project without running it: metadata, config, registry, catalog."""

from __future__ import annotations

import importlib
import re
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping
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
from kedro_ml_lint.loader.lite import (
    KEDRO_MLFLOW,
    imported_modules,
    missing_modules,
    mocked_modules,
)
from kedro_ml_lint.loader.pyproject import kedro_metadata, lint_table, read_pyproject
from kedro_ml_lint.model.names import flatten_parameter_keys

_KEDRO_FILE_MESSAGE = re.compile(r"(?:file|in) (?P<path>\S+?\.(?:ya?ml|json))\b")


@dataclass
class Project:
    """A loaded Kedro project: everything the linter reads, nothing instantiated.

    Attributes:
        root: The project root (holds ``pyproject.toml``).
        package_name: The project's Python package.
        lint_config: The ``[tool.kedro-ml-lint]`` table.
        registry: The pipeline registry, name -> pipeline.
        catalog: Static resolution of dataset names.
        catalog_index: Where each catalog key is written.
        parameter_keys: Every ``params:`` name the parameters define.
        warnings: Things the user should know that did not stop the analysis.
    """

    root: Path
    package_name: str
    lint_config: dict[str, Any]
    registry: dict[str, Any]
    catalog: CatalogView
    catalog_index: CatalogIndex
    parameter_keys: frozenset[str]
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
            f"`{_relative(package_dir, root)}`",
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
        _project_imports(package_name),
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
    index = CatalogIndex(root, _catalog_files(config_loader))
    try:
        catalog = CatalogView(catalog_config)
    except ProjectConfigError as exc:
        position = index.position(exc.message.split("`")[1]) if "`" in exc.message else None
        exc.path, exc.line = (position.path, position.line) if position else ("conf", None)
        raise
    return Project(
        root=root,
        package_name=package_name,
        lint_config=lint_table(pyproject),
        registry=registry,
        catalog=catalog,
        catalog_index=index,
        parameter_keys=flatten_parameter_keys(parameters),
        warnings=notes,
    )


@contextmanager
def _project_imports(package_name: str) -> Iterator[None]:
    """Import the project fresh: drop modules a previous load left under the same name."""
    for name in [m for m in sys.modules if m == package_name or m.startswith(package_name + ".")]:
        del sys.modules[name]
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
            f"the configuration folder `{_relative(source, root)}` does not exist"
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
        raise _config_error(exc, root, key) from exc
    if not isinstance(config, Mapping):
        raise ProjectConfigError(f"the {key} configuration is not a mapping")
    return dict(config)


def _config_error(exc: BaseException, root: Path, key: str) -> ProjectConfigError:
    """Name the file and 1-based line of a YAML or merge error, whatever raised it."""
    mark = None
    for cause in _chain(exc):
        mark = getattr(cause, "problem_mark", None) or getattr(cause, "context_mark", None)
        if mark is not None:
            break
    path = None
    match = _KEDRO_FILE_MESSAGE.search(str(exc))
    if match:
        path = _relative(Path(match.group("path")), root)
    elif mark is not None and getattr(mark, "name", "") not in ("", "<unicode string>"):
        path = _relative(Path(mark.name), root)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for cause in _chain(exc):
        problem = getattr(cause, "problem", None)
        if problem:
            detail = f"invalid YAML: {problem}"
            break
    if isinstance(exc, UnicodeDecodeError):
        detail = f"not valid UTF-8 ({exc.reason})"
    line = mark.line + 1 if mark is not None else None
    return ProjectConfigError(f"cannot read the {key} configuration: {detail}", path, line)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _catalog_files(config_loader: Any) -> list[Path]:
    patterns = getattr(config_loader, "config_patterns", {}).get("catalog", ["catalog*"])
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
            raise _code_error(exc, root, "the pipeline registry could not be loaded") from exc
    for warning in caught:
        text = str(warning.message)
        if "find_pipelines" in text or "error occurred while importing" in text:
            notes.append(text.splitlines()[0])
    if not isinstance(registry, Mapping):
        raise ProjectCodeError(
            f"`register_pipelines()` returned a {type(registry).__name__}, not a dict of pipelines",
            _relative(package_dir / "pipeline_registry.py", root),
        )
    return dict(registry)


def _code_error(exc: BaseException, root: Path, what: str) -> ProjectCodeError:
    """Point at the deepest frame of the project's own code that raised."""
    path, line = None, None
    if isinstance(exc, SyntaxError) and exc.filename:
        path, line = _relative(Path(exc.filename), root), exc.lineno
        detail = f"syntax error: {exc.msg}"
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            relative = _relative(Path(frame.filename), root)
            if not Path(relative).is_absolute():
                path, line = relative, frame.lineno
        detail = (
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        )
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            detail += " (install it, or drop --no-lite to mock missing modules)"
    return ProjectCodeError(f"{what}: {detail}".rstrip(": "), path, line)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return path.as_posix()
