"""Whether kedro-mlflow's hook runs in a ``kedro run`` of the project (its settings read)."""

from __future__ import annotations

from types import ModuleType

from kedro_ml_lint.importing.lite import StandIn
from kedro_ml_lint.seams.kedro_mlflow import KEDRO_MLFLOW, distribution_name
from kedro_ml_lint.seams.kedro_settings import settings_items


def hook_runs(settings: ModuleType | None, in_environment: bool = True) -> bool:
    """True when kedro-mlflow's hook runs in a ``kedro run`` of the project.

    It does when ``settings.HOOKS`` lists it (Kedro 0.17 projects did; Kedro registers it
    whatever ``DISABLE_HOOKS_FOR_PLUGINS`` says, since that only unregisters what entry
    points registered), or when the plugin is in the project's environment
    (``in_environment``: see
    :func:`kedro_ml_lint.seams.kedro_mlflow.in_project_environment`), registers its hook itself (its
    ``kedro.hooks`` entry point) and ``DISABLE_HOOKS_FOR_PLUGINS`` does not name the
    distribution exactly, as Kedro compares. Both settings may be any iterable
    (``settings_items``).
    """
    if any(is_kedro_mlflow_hook(hook) for hook in settings_items(settings, "HOOKS")):
        return True
    if not in_environment:
        return False  # no plugin, no entry point: nothing registers its hook
    disabled = settings_items(settings, "DISABLE_HOOKS_FOR_PLUGINS")
    return distribution_name() not in {name for name in disabled if isinstance(name, str)}


def is_kedro_mlflow_hook(hook: object) -> bool:
    """A hook instance of kedro-mlflow's, or (lean environment) a stand-in for one."""
    if isinstance(hook, StandIn):
        # `MlflowHook()` of a stood-in `kedro_mlflow.framework.hooks`: its dotted path.
        return object.__getattribute__(hook, "_kml_path").startswith(KEDRO_MLFLOW + ".")
    return type(hook).__module__.startswith(KEDRO_MLFLOW + ".")
