"""Load a Kedro project without running it: metadata, config, registry, catalog.

The load reads a project the way ``kedro run`` of the project's own Kedro version
would, from one installed kedro-ml-lint: version-specific knowledge is behind
:mod:`kedro_ml_lint.eras`, libraries that are not installed get stand-ins
(:mod:`kedro_ml_lint.importing.lite`).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from kedro_ml_lint import eras
from kedro_ml_lint.diagnostics import relative_to_root
from kedro_ml_lint.errors import (
    KedroMlLintError,
    NotAKedroProjectError,
    ProjectCodeError,
    ProjectConfigError,
)
from kedro_ml_lint.importing.capture import captured_factories, recorded_node_sites
from kedro_ml_lint.importing.deferred import deferred_imports, worth_deferring
from kedro_ml_lint.importing.import_health import ImportHealth
from kedro_ml_lint.importing.lite import (
    LiteSession,
    StandIn,
    distribution_hint,
    is_real,
    lite_import,
    local_module_names,
)
from kedro_ml_lint.model.names import flatten_parameter_keys
from kedro_ml_lint.reading import sources
from kedro_ml_lint.reading.catalog import CatalogIndex, CatalogView, config_files
from kedro_ml_lint.reading.config_errors import config_error, relative
from kedro_ml_lint.reading.pyproject import (
    find_project_root,
    kedro_metadata,
    lint_table,
    read_pyproject,
    refuse_older_project,
)
from kedro_ml_lint.seams import kedro_mlflow as kedro_mlflow_compat
from kedro_ml_lint.seams.kedro_catalog import read_plain_catalog
from kedro_ml_lint.seams.kedro_settings import kedro_globals_restored
from kedro_ml_lint.seams.versions import KedroVersion
from kedro_ml_lint.vocabulary import PYPROJECT


class ConfigSource:
    """The project's configuration as its own config loader reads it.

    Args:
        make_loader: Builds a fresh config loader on a configuration folder (nothing is
            cached between reads).
        conf_source: The configuration folder this load read.
        root: The project root, for messages.
        loader_class: The config loader's class name (shown by ``-v``).
    """

    def __init__(
        self,
        make_loader: Callable[[Path], Any],
        conf_source: Path,
        root: Path,
        loader_class: str,
    ) -> None:
        self._make_loader = make_loader
        self.conf_source = conf_source
        self._root = root
        self.loader_class = loader_class

    def read(self, key: str) -> dict[str, Any]:
        """The merged configuration for ``key`` (``catalog``, ``parameters``…), read now.

        Raises:
            ProjectConfigError: When the files cannot be read or merged; it names the file.
        """
        return _read_config(self._make_loader(self.conf_source), key, self._root)

    def files(self, key: str) -> list[Path]:
        """The files read for ``key``, run environment first."""
        return _config_files(self._make_loader(self.conf_source), key)

    def elsewhere(self, conf_source: Path) -> ConfigSource:
        """The same loader (class, environment, arguments) reading another folder.

        ``--fix`` reads a scratch copy of the configuration through it before it writes.
        """
        return ConfigSource(self._make_loader, conf_source, self._root, self.loader_class)


@dataclass
class Project:
    """A loaded Kedro project: everything the linter reads, nothing instantiated.

    Attributes:
        root: The project root (holds ``pyproject.toml``).
        package_name: The project's Python package.
        package_dir: Where that package's sources are (``<root>/<source_dir>/<package>``).
        kedro_version: The Kedro version the project was made with (``pyproject.toml``).
        lint_config: The ``[tool.kedro-ml-lint]`` table.
        registry: The pipeline registry, name -> pipeline.
        catalog: Static resolution of dataset names.
        catalog_index: Where each catalog key is written.
        parameter_keys: Every ``params:`` name the parameters define.
        config: Reads configuration again the way this load read it (same loader class,
            environment and source): ``--fix`` reads its edit back through it.
        settings: The project's ``settings`` module as imported (hooks, plugins).
        warnings: Things the user should know that did not stop the analysis.
        deferral: Why a deferred load was imported again for real, or why nothing
            could be deferred (``-v`` says it).
        deferred: The libraries the registry holds as deferred values (none when the load
            did not defer or was retried): its modules were compiled for deferral.
        import_recorded: The libraries a deferring load imported for real because no
            valid import record said their import succeeds; recorded for the next runs.
        compiled_for_deferral: The project's modules were compiled for deferral and kept
            (even when nothing ended up deferred): their functions call helpers that exist
            only in this process, so they must never be pickled into a model.
    """

    root: Path
    package_name: str
    package_dir: Path
    kedro_version: KedroVersion
    lint_config: dict[str, Any]
    registry: dict[str, Any]
    catalog: CatalogView
    catalog_index: CatalogIndex
    parameter_keys: frozenset[str]
    config: ConfigSource
    settings: ModuleType | None = None
    warnings: list[str] = field(default_factory=list)
    deferral: str | None = None
    deferred: tuple[str, ...] = ()
    import_recorded: tuple[str, ...] = ()
    compiled_for_deferral: bool = False

    def source_files(self) -> list[Path]:
        """The project's own Python files: its package and the modules beside it."""
        return sorted(p for p in self.package_dir.parent.rglob("*.py") if p.is_file())

    def relative(self, filename: str) -> str | None:
        """``filename`` relative to the root, ``None`` when it lies outside the project."""
        return relative_to_root(filename, self.root)


def project_root(project_dir: str | Path) -> Path:
    """The root of the project at or above ``project_dir``.

    Raises:
        NotAKedroProjectError: When no folder at or above it is a Kedro project.
    """
    start = Path(project_dir).expanduser().resolve()
    if not start.is_dir():
        raise NotAKedroProjectError(f"`{project_dir}` is not a folder")
    root = find_project_root(start)
    refuse_older_project(start, root)  # a Kedro 0.16 project nearer than any [tool.kedro]
    if root is None:
        raise NotAKedroProjectError(
            f"`{project_dir}` is not in a Kedro project: no `{PYPROJECT}` with a "
            "`[tool.kedro]` table in it or any folder above it; pass the project's root folder"
        )
    return root


def load_project(
    project_dir: str | Path,
    env: str | None = None,
    conf_source: str | None = None,
    lite: bool = True,
    exact: bool = False,
    defer: bool = True,
) -> Project:
    """Load the project at (or above) ``project_dir`` statically.

    Args:
        project_dir: The project root, or any folder inside the project.
        env: The run environment layered over ``base`` (Kedro's default when ``None``).
        conf_source: Another configuration folder than the project's.
        lite: Stand in for libraries the project imports that are not installed.
        exact: Take no shortcut: the catalog is read by the config loader itself, never
            by ``read_plain_catalog`` (``--exact``).
        defer: Import the project's heavy libraries on first real use while the registry
            loads (``importing/deferred.py``); the verdict is a real import's either way.

    Raises:
        KedroMlLintError: When the project cannot be read; the message names the file.
    """
    root = project_root(project_dir)
    sources.forget()  # files may have changed since an earlier load in this process
    pyproject = read_pyproject(root)
    metadata = kedro_metadata(pyproject, root)
    version: KedroVersion = metadata["kedro_version"]
    package_name = metadata["package_name"]
    source_dir = root / metadata.get("source_dir", "src")
    package_dir = source_dir / package_name
    if not package_dir.is_dir():
        raise NotAKedroProjectError(
            f"the package `{package_name}` named in `[tool.kedro]` is not at "
            f"`{relative(package_dir, root)}`",
            PYPROJECT,
        )
    notes: list[str] = []
    with ExitStack() as stack:
        stack.enter_context(_project_imports(package_name, source_dir))
        stack.enter_context(_working_directory(root))
        stack.enter_context(kedro_globals_restored())
        session = stack.enter_context(
            lite_import(
                (root, source_dir),
                local_module_names(source_dir, root),
                eras.make_module if lite else eras.kedro_module,
                stand_in_missing=lite,
                older_kedro=eras.is_older(version),
            )
        )
        stack.enter_context(eras.project_era(version))
        # Libraries' deprecation chatter is not the user's concern while linting.
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        try:
            settings = _import_settings(package_name, root, session)
            make_loader, conf_folder = _loader_factory(settings, version, root, env, conf_source)
            config_loader = make_loader(conf_folder)
            catalog_config = _read_config(config_loader, "catalog", root, plain=not exact)
            parameters = _read_config(config_loader, "parameters", root)
            if kedro_mlflow_compat.mentioned_in(source_dir) and kedro_mlflow_compat.installed():
                importlib.import_module("kedro_mlflow.pipeline")  # so its factory is captured
            registry, deferral = _import_registry(
                root, package_dir, settings, notes, session, defer
            )
        except KedroMlLintError:
            raise
        except Exception as exc:
            raise _code_error(exc, root, "the project could not be loaded", session) from exc
        _stop_on_stand_in_use(session)
    if session.stood_in:
        notes.append(
            "lite import: stood in for modules that are not installed here: "
            + ", ".join(f"`{m}`" for m in session.stood_in)
            + " (the project's pipelines did not depend on them)"
        )
    index = CatalogIndex(root, _config_files(config_loader, "catalog"))
    try:
        catalog = CatalogView(catalog_config)
    except ProjectConfigError as exc:
        position = index.first_mentioned_in(exc.message)
        if position is not None:
            exc.path, exc.line = position.path, position.line
        raise
    config = ConfigSource(make_loader, conf_folder, root, type(config_loader).__name__)
    return Project(
        root=root,
        package_name=package_name,
        package_dir=package_dir,
        kedro_version=version,
        lint_config=lint_table(pyproject),
        registry=registry,
        catalog=catalog,
        catalog_index=index,
        parameter_keys=flatten_parameter_keys(parameters),
        config=config,
        settings=settings,
        warnings=notes,
        deferral=deferral.retried,
        deferred=deferral.deferred,
        import_recorded=deferral.recorded,
        compiled_for_deferral=deferral.compiled,
    )


def _own_module_names(package_name: str, source_dir: Path) -> frozenset[str]:
    """The project's top-level modules: its package and the modules beside it."""
    return local_module_names(source_dir) | {package_name}


def _forget_modules(own: frozenset[str], keep: frozenset[str] = frozenset()) -> None:
    """Drop the imported modules under ``own`` (but those in ``keep``) from ``sys.modules``."""
    for name in [m for m in sys.modules if m.partition(".")[0] in own and m not in keep]:
        del sys.modules[name]


@contextmanager
def _project_imports(package_name: str, source_dir: Path) -> Iterator[None]:
    """Import the project fresh, from its own source folder.

    Modules a previous load left under the same names (the package and the modules beside
    it in the source folder) are dropped, and the source folder goes first on ``sys.path``
    (as ``bootstrap_project`` does), so another copy of a same-named project, or a stale
    import, cannot win.
    """
    _forget_modules(_own_module_names(package_name, source_dir))
    source = str(source_dir.resolve())
    while source in sys.path:
        sys.path.remove(source)
    sys.path.insert(0, source)
    importlib.invalidate_caches()
    yield


@contextmanager
def _working_directory(root: Path) -> Iterator[None]:
    """Run the load from the project root, where ``kedro run`` runs.

    Registries that read a file at import (``pd.read_csv("data/…")``, ``ConfigLoader("conf")``)
    name it relative to the root.
    """
    before = Path.cwd()
    os.chdir(root)
    try:
        yield
    finally:
        os.chdir(before)


def _import_settings(package_name: str, root: Path, session: LiteSession) -> ModuleType | None:
    """The project's ``settings`` module, imported (``None`` when it has none).

    Kedro's own ``settings`` object is pointed at it too, so project code that reads
    ``settings.CONF_SOURCE`` at import sees the project's values, as under ``kedro run``.
    Kedro's validation of every setting is not run: the load uses only the configuration
    ones, and a session store or context class stood in for must not stop it.
    """
    name = f"{package_name}.settings"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise _code_error(exc, root, "the project's settings could not be loaded", session) from exc
    except KedroMlLintError:
        raise
    except Exception as exc:
        raise _code_error(exc, root, "the project's settings could not be loaded", session) from exc
    _configure_kedro_settings(module, package_name, root)
    return module


def _configure_kedro_settings(module: ModuleType, package_name: str, root: Path) -> None:
    """Point Kedro's ``settings`` at the project's, minus the values stood in for.

    Kedro (through dynaconf) reads and validates every setting when it is configured; a
    stood-in session store or hook class is not something it can check, and the load
    uses none of them, so those settings keep Kedro's defaults here.
    """
    import kedro.framework.project as kedro_project

    mirror = ModuleType(f"{module.__name__}__kedro_ml_lint")
    mirror.__file__ = module.__file__
    for key, value in vars(module).items():
        if key.isupper() and is_real(value):
            setattr(mirror, key, value)
    sys.modules[mirror.__name__] = mirror
    try:
        kedro_project.settings.configure(mirror.__name__)
    except Exception as exc:
        raise ProjectCodeError(
            f"Kedro rejects the project's settings: {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
            _settings_path(module, root),
        ) from exc
    finally:
        del sys.modules[mirror.__name__]
    kedro_project.PACKAGE_NAME = package_name  # type: ignore[assignment]  # find_pipelines


def _loader_factory(
    settings: ModuleType | None,
    version: KedroVersion,
    root: Path,
    env: str | None,
    conf_source: str | None,
) -> tuple[Callable[[Path], Any], Path]:
    """How ``kedro run`` would make the project's config loader, and on which folder.

    Returns:
        A function making the loader on a configuration folder, and the project's folder.
    """
    folder = (
        Path(conf_source).expanduser() if conf_source else root / eras.conf_source_setting(settings)
    )
    if not folder.is_absolute():
        folder = (Path.cwd() / folder).resolve() if conf_source else (root / folder).resolve()
    if not folder.is_dir():
        raise NotAKedroProjectError(
            f"the configuration folder `{relative(folder, root)}` does not exist"
            + ("" if conf_source else "; a Kedro project keeps its configuration in `conf/`")
        )
    loader_class = getattr(settings, "CONFIG_LOADER_CLASS", None)
    args = getattr(settings, "CONFIG_LOADER_ARGS", None)
    if loader_class is None:
        loader_class = eras.default_config_loader(version)
    if args is None:
        args = dict(eras.DEFAULT_CONFIG_LOADER_ARGS)
    if isinstance(loader_class, StandIn) or not callable(loader_class):
        raise ProjectCodeError(
            f"`CONFIG_LOADER_CLASS` is {loader_class!r}, not a config loader class"
            + (
                f"; install `{distribution_hint(loader_class._kml_path.split('.')[0])}`"
                if isinstance(loader_class, StandIn)
                else ""
            ),
            _settings_path(settings, root),
        )
    if not isinstance(args, Mapping):
        raise ProjectCodeError(
            "`CONFIG_LOADER_ARGS` must be a dict", _settings_path(settings, root)
        )
    args = eras.config_loader_args(version, loader_class, dict(args))
    base_env, default_run_env = eras.loader_environments(version, loader_class, args)
    run_env = env or default_run_env
    for needed in dict.fromkeys(e for e in (base_env, run_env) if e):
        if not (folder / needed).is_dir():
            present = sorted(p.name for p in folder.iterdir() if p.is_dir())
            how = (
                _named_env(env)
                if needed == env
                else f"the {'base' if needed == base_env else 'default run'} environment"
            )
            raise ProjectConfigError(
                f"the configuration environment folder does not exist: {how} needs it, and "
                f"`kedro run` fails without it (environments here: "
                f"{', '.join(f'`{e}`' for e in present) or 'none'})",
                relative(folder / needed, root),
            )
    hook = (
        eras.hook_implementation(settings, "register_config_loader")
        if settings is not None and version.minor_version < (0, 18)
        else None
    )

    def make(folder: Path) -> Any:
        try:
            if hook is not None:  # Kedro 0.17: the project's hook builds its loader
                conf_paths = list(
                    dict.fromkeys(str(folder / e) for e in (base_env, run_env or "local"))
                )
                return eras.call_hook(
                    hook, conf_paths=conf_paths, env=env or "local", extra_params={}
                )
            return loader_class(conf_source=str(folder), env=env, **args)
        except KedroMlLintError:
            raise
        except Exception as exc:
            raise ProjectConfigError(
                f"the config loader could not start: {type(exc).__name__}: {exc}",
                _settings_path(settings, root),
            ) from exc

    return make, folder


def _named_env(env: str | None) -> str:
    """How the user named the run environment: ``--env``, or ``KEDRO_ENV`` (§5)."""
    from kedro_ml_lint.reading.options import KEDRO_ENV

    # Only on the way to an error: a run that stores a cache entry never reads it here.
    return f"`{KEDRO_ENV}={env}`" if os.environ.get(KEDRO_ENV) == env else f"`--env {env}`"


def _settings_path(settings: ModuleType | None, root: Path) -> str | None:
    filename = getattr(settings, "__file__", None)
    return relative(Path(filename), root) if filename else None


def _read_config(config_loader: Any, key: str, root: Path, plain: bool = True) -> dict[str, Any]:
    from kedro.config import MissingConfigException

    try:
        # The catalog can be large, and read exactly without OmegaConf's nodes when it
        # does not interpolate; anything else is read by the loader itself.
        read = read_plain_catalog(config_loader) if plain and key == "catalog" else None
        config = config_loader[key] if read is None else read
    except (KeyError, MissingConfigException):
        # Folders were checked before: what is missing here is files, read as empty.
        return {}
    except Exception as exc:
        raise config_error(exc, key, _config_files(config_loader, key), root) from exc
    if not isinstance(config, Mapping):
        raise ProjectConfigError(f"the {key} configuration is not a mapping")
    return dict(config)


def _config_files(config_loader: Any, key: str) -> list[Path]:
    """The files the config loader reads for ``key``, run environment first."""
    if hasattr(config_loader, "files") and callable(config_loader.files):
        return list(config_loader.files(key))
    patterns = getattr(config_loader, "config_patterns", {}).get(key, [f"{key}*"])
    base_env = getattr(config_loader, "base_env", "base") or "base"
    run_env = getattr(config_loader, "env", None) or getattr(config_loader, "default_run_env", "")
    envs = [e for e in (run_env, base_env) if e]
    conf_source = Path(getattr(config_loader, "conf_source", "conf"))
    return config_files(conf_source, list(dict.fromkeys(envs)), patterns)


@dataclass(frozen=True)
class _Deferral:
    """How a registry import deferred: what it kept deferred, or why it was retried."""

    deferred: tuple[str, ...] = ()
    retried: str | None = None
    recorded: tuple[str, ...] = ()  # imported for real, no valid record: recorded now
    compiled: bool = False  # the project's modules kept their deferral rewrite (rewrite.py)


def _import_registry(
    root: Path,
    package_dir: Path,
    settings: ModuleType | None,
    notes: list[str],
    session: LiteSession,
    defer: bool,
) -> tuple[dict[str, Any], _Deferral]:
    """:func:`_load_registry`, first with the heavy libraries deferred when ``defer``.

    A deferred load whose verdict could differ from a real import's is done again, with
    the project's modules fresh and nothing deferred: when the registry raised, when it
    emitted any warning (Kedro's ``find_pipelines`` skips a pipeline with one), or when
    resolving a deferred value raised, even if something caught it.
    """
    if not defer or not worth_deferring():
        return _load_registry(root, package_dir, settings, notes, session), _Deferral()
    health = ImportHealth(root)
    if not health.usable:  # no record can be trusted: nothing is known to import
        registry = _load_registry(root, package_dir, settings, notes, session)
        return registry, _Deferral(retried=f"deferred import off: {health.problem}")
    before = frozenset(sys.modules)
    heard: list[str] = []
    with deferred_imports(session.is_project_file, health) as deferral:
        try:
            registry = _load_registry(root, package_dir, settings, [], session, heard)
        except Exception as exc:
            if not deferral.deferred:
                raise
            why: str | None = f"the registry raised {type(exc).__name__}"
        else:
            deferral.verify()  # what was only named must exist, as a real import finds
            why = deferral.doubt() or (
                f"it emitted a warning: {heard[0]}" if heard and deferral.deferred else None
            )
            if why is None:
                _load_registry_notes(heard, notes)
                return registry, _Deferral(
                    tuple(deferral.deferred), None, tuple(health.imported), compiled=True
                )
    deferred = ", ".join(deferral.deferred)
    _forget_modules(_own_module_names(package_dir.name, package_dir.parent), keep=before)
    session.stopped.clear()
    registry = _load_registry(root, package_dir, settings, notes, session)
    return registry, _Deferral(retried=f"deferred import of {deferred} retried for real: {why}")


def _load_registry(
    root: Path,
    package_dir: Path,
    settings: ModuleType | None,
    notes: list[str],
    session: LiteSession,
    heard: list[str] | None = None,
) -> dict[str, Any]:
    """``register_pipelines()`` of the registry module (or Kedro 0.17's hook), called.

    Every warning emitted meanwhile is recorded (and kept from the user's output); the
    ones about a pipeline Kedro skipped become notes, and all go to ``heard`` if given.
    """
    registry_file = relative(package_dir / "pipeline_registry.py", root)
    module_name = f"{package_dir.name}.pipeline_registry"
    with ExitStack() as stack:
        stack.enter_context(captured_factories())
        stack.enter_context(recorded_node_sites(session.is_project_file))
        caught = stack.enter_context(warnings.catch_warnings(record=True))
        warnings.simplefilter("always")
        try:
            register = _registry_function(module_name, settings)
            if register is None:
                raise ProjectCodeError(
                    "the project has no pipeline registry; Kedro reads the pipelines from "
                    "`register_pipelines()` in this file",
                    registry_file,
                )
            registry = register()
        except KedroMlLintError:
            raise
        except Exception as exc:
            error = _code_error(exc, root, "the pipeline registry could not be loaded", session)
            error.path = error.path or registry_file
            raise error from exc
    texts = [(str(w.message).strip().splitlines() or [w.category.__name__])[0] for w in caught]
    if heard is None:
        _load_registry_notes(texts, notes)
    else:
        heard.extend(texts)
    if not isinstance(registry, Mapping):
        raise ProjectCodeError(
            f"`register_pipelines()` returned a {type(registry).__name__}, not a dict of pipelines",
            registry_file,
        )
    return dict(registry)


def _load_registry_notes(warnings: list[str], notes: list[str]) -> None:
    """The warnings of a registry load the user should see: pipelines Kedro skipped."""
    for text in warnings:
        if "find_pipelines" in text or "error occurred while importing" in text:
            notes.append(text)


def _registry_function(module_name: str, settings: ModuleType | None) -> Any | None:
    """``register_pipelines`` from the registry module, or from a hook (Kedro 0.17.0/0.17.1)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        hook = eras.hook_implementation(settings, "register_pipelines") if settings else None
        return hook
    return getattr(module, "register_pipelines", None)


def _stop_on_stand_in_use(session: LiteSession) -> None:
    """A structural use of a stand-in stops the check, even if library code caught it."""
    if session.stopped:
        raise session.stopped[0]


def _code_error(
    exc: BaseException, root: Path, what: str, session: LiteSession
) -> ProjectCodeError:
    """Point at the deepest frame of the project's own code that raised."""
    if session.stopped:
        return session.stopped[0]
    path, line = None, None
    if isinstance(exc, SyntaxError) and exc.filename:
        path, line = relative(Path(exc.filename), root), exc.lineno
        detail = f"syntax error: {exc.msg}"
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            own = session.relative(frame.filename)  # the project's code, not a library's
            if own is not None:
                path, line = own, frame.lineno
        message = str(exc).strip()
        detail = f"{type(exc).__name__}: {message.splitlines()[0] if message else ''}"
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            detail += " (install it in this environment"
            detail += (
                ")"
                if session.stand_in_missing
                else (", or drop --no-lite to stand in for missing modules)")
            )
    if session.stood_in:
        detail += (
            f"; kedro-ml-lint stood in for {', '.join(f'`{m}`' for m in session.stood_in)}, "
            "which are not installed here: add them to the hook's `additional_dependencies` "
            "or run kedro-ml-lint in the project's own environment"
        )
    return ProjectCodeError(f"{what}: {detail}".rstrip(": "), path, line)
