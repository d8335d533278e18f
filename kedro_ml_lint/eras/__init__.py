"""Everything that depends on which Kedro (and kedro-mlflow) a project was written for.

One installed kedro-ml-lint (on Kedro 0.19 or 1.x) reads projects of Kedro 0.17 to 1.x
statically. The differences between eras live here and nowhere else:

- which ``pyproject.toml`` key records the project's Kedro version (:func:`project_version`),
  and the one line a project outside the range read gets (:func:`unsupported_version`);
- the APIs older Kedros had (:mod:`.kedro_apis`) and their config loaders
  (:mod:`.legacy_config`), with the era's default loader (:func:`default_config_loader`)
  and the defaults its arguments had (:func:`config_loader_args`,
  :func:`loader_environments`);
- how Kedro 0.17 made its config loader and registry: ``register_config_loader`` and
  ``register_pipelines`` hooks (:func:`hook_implementation`);
- the settings name of the configuration folder (``CONF_ROOT`` before 0.18);
- catalog type names and wrapper keys of older Kedros and kedro-mlflows
  (:mod:`.catalog_names`).

Which Kedro is installed, and the private or version-specific APIs read to emulate an era,
are in :mod:`kedro_ml_lint.seams` (kedro-mlflow's factory signatures in
:mod:`kedro_ml_lint.seams.kedro_mlflow`).

See docs/design.md §12 for the supported versions and what is emulated.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import ModuleType
from typing import Any

from kedro_ml_lint.errors import NotAKedroProjectError
from kedro_ml_lint.seams.kedro_settings import settings_items
from kedro_ml_lint.seams.versions import KedroVersion, installed_kedro

OLDEST_SUPPORTED = (0, 17)
NEWEST_MAJOR = 1
SUPPORTED_RANGE = "0.17 to 1.x"
# The default run environment's folder and the base's, in every supported era.
DEFAULT_CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}
# Before 0.19 every config loader defaulted to these itself (0.18's ``OmegaConfigLoader``
# too); from 0.19 ``OmegaConfigLoader`` defaults to none, and the settings template (or
# Kedro's default ``CONFIG_LOADER_ARGS``) names them.
_ENVIRONMENTS_BEFORE_019 = {"base_env": "base", "default_run_env": "local"}


def project_version(table: dict[str, Any], where: str) -> KedroVersion:
    """The Kedro version a project was made with, from its ``[tool.kedro]`` table.

    ``kedro_init_version`` since 0.19, ``project_version`` before.

    Raises:
        NotAKedroProjectError: When neither key holds a version, or the version is
            outside what kedro-ml-lint reads.
    """
    for key in ("kedro_init_version", "project_version"):
        value = table.get(key)
        if isinstance(value, str):
            version = KedroVersion.parse(value)
            if version is None:
                raise NotAKedroProjectError(
                    f"`{key} = {value!r}` in `[tool.kedro]` is not a Kedro version", where
                )
            if version.minor_version < OLDEST_SUPPORTED or version.major > NEWEST_MAJOR:
                raise unsupported_version(str(version), where)
            installed = installed_kedro()
            if version.major > installed.major:
                raise NotAKedroProjectError(
                    f"the project was made with Kedro {version} but this kedro-ml-lint runs on "
                    f"Kedro {installed}; install kedro-ml-lint in an environment with Kedro "
                    f"{version.major}.x (its own, or the pre-commit hook's) to check it",
                    where,
                )
            return version
    raise NotAKedroProjectError(
        "`[tool.kedro]` records no Kedro version: `kedro_init_version` (Kedro 0.19 and "
        "later) or `project_version` (0.17, 0.18)",
        where,
    )


def unsupported_version(
    found: str | None, where: str | None, line: int | None = None, *, marker: str = ""
) -> NotAKedroProjectError:
    """The one-line error for a project of a Kedro outside :data:`SUPPORTED_RANGE`.

    Args:
        found: The version read, ``None`` when the project records none.
        where: The file it was read from (or that marks the project as older).
        line: The line of ``where`` holding it.
        marker: Why the project is known to be older, e.g. "it has `.kedro.yml`".
    """
    made = f"Kedro {found}" if found else "a Kedro older than 0.17"
    why = f" ({marker})" if marker else ""
    advice = (
        "; upgrade it to Kedro 0.17 or later first (Kedro 0.17.0's migration guide moves "
        "`.kedro.yml` to `[tool.kedro]` in `pyproject.toml`)"
        if found is None or (KedroVersion.parse(found) or KedroVersion(0, 0)).major < 1
        else ""
    )
    return NotAKedroProjectError(
        f"the project was made with {made}{why}; kedro-ml-lint reads projects of Kedro "
        f"{SUPPORTED_RANGE}{advice}",
        where,
        line,
    )


def config_loader_args(
    version: KedroVersion, loader_class: Any, args: dict[str, Any]
) -> dict[str, Any]:
    """``CONFIG_LOADER_ARGS`` completed with what the project's era defaulted.

    A Kedro 0.18 project that opts into ``OmegaConfigLoader`` with only some arguments
    got 0.18's ``base_env="base"`` and ``default_run_env="local"`` for the others; the
    installed Kedro's class (0.19+) would read the configuration folder itself as base.
    """
    if version.minor_version < (0, 19) and _is_omegaconf_loader(loader_class):
        return {**_ENVIRONMENTS_BEFORE_019, **args}
    return dict(args)


def loader_environments(
    version: KedroVersion, loader_class: Any, args: dict[str, Any]
) -> tuple[str, str]:
    """The base and default run environments the project's config loader reads.

    Before 0.19, Kedro's own loaders (``ConfigLoader``, ``TemplatedConfigLoader`` and
    0.18's ``OmegaConfigLoader``) defaulted to ``base`` and ``local``.
    """
    if version.minor_version < (0, 19) and _is_kedro_loader(loader_class):
        merged = {**_ENVIRONMENTS_BEFORE_019, **args}
        return str(merged["base_env"] or "base"), str(merged["default_run_env"] or "")
    return str(args.get("base_env", "base") or "base"), str(args.get("default_run_env") or "")


def _is_omegaconf_loader(loader_class: Any) -> bool:
    from kedro.config import OmegaConfigLoader

    return isinstance(loader_class, type) and issubclass(loader_class, OmegaConfigLoader)


def _is_kedro_loader(loader_class: Any) -> bool:
    from kedro_ml_lint.eras.legacy_config import LegacyConfigLoader

    return _is_omegaconf_loader(loader_class) or (
        isinstance(loader_class, type) and issubclass(loader_class, LegacyConfigLoader)
    )


def is_older(project: KedroVersion) -> bool:
    """True when the project was written for an older Kedro than the installed one."""
    return project.minor_version < installed_kedro().minor_version


def default_config_loader(project: KedroVersion) -> Any:
    """The config loader class ``kedro run`` of the project's era used by default."""
    if project.minor_version < (0, 19):
        from kedro_ml_lint.eras.legacy_config import LegacyConfigLoader

        return LegacyConfigLoader
    from kedro.config import OmegaConfigLoader

    return OmegaConfigLoader


def conf_source_setting(settings: ModuleType | None) -> str:
    """The configuration folder a project's settings name (``CONF_ROOT`` in 0.17)."""
    for name in ("CONF_SOURCE", "CONF_ROOT"):
        value = getattr(settings, name, None)
        if isinstance(value, str) and value:
            return value
    return "conf"


def hook_implementation(settings: ModuleType, name: str) -> Any | None:
    """The first hook in ``settings.HOOKS`` that implements ``name`` (Kedro 0.17's way)."""
    for hook in settings_items(settings, "HOOKS"):
        method = getattr(type(hook), name, None)
        if method is not None and callable(method):
            return getattr(hook, name)
    return None


def call_hook(method: Any, **available: Any) -> Any:
    """Call a hook implementation with the arguments it declares, as pluggy does."""
    try:
        accepted = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return method(**available)
    if any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        return method(**available)
    return method(**{k: v for k, v in available.items() if k in accepted})


@contextmanager
def project_era(version: KedroVersion) -> Iterator[None]:
    """While a project loads, answer for the Kedro APIs its era had."""
    with ExitStack() as stack:
        if is_older(version):
            from kedro_ml_lint.eras.kedro_apis import older_kedro_apis

            stack.enter_context(older_kedro_apis())
        yield


def kedro_module(name: str) -> ModuleType | None:
    """A module an older Kedro had that the installed one answers with a real module."""
    from kedro_ml_lint.eras.kedro_apis import MODULAR_PIPELINE, modular_pipeline_module

    return modular_pipeline_module() if name == MODULAR_PIPELINE else None


def make_module(name: str) -> ModuleType | None:
    """Real modules lite import puts where a stand-in would otherwise go."""
    from kedro_ml_lint.importing.kedro_mlflow_stand_in import kedro_mlflow_stand_in

    return kedro_module(name) or kedro_mlflow_stand_in(name)
