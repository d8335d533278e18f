"""Project settings: Kedro's defaults, spelled out.

kedro-mlflow's ``MlflowHook`` registers itself (plugin entry point): nothing to add here.
Its configuration is ``conf/base/mlflow.yml``.
See https://docs.kedro.org/en/stable/configure/configuration_basics/
"""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
