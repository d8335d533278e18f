"""Project settings: Kedro's defaults, spelled out.

See https://docs.kedro.org/en/stable/configure/configuration_basics/
"""

from kedro.config import OmegaConfigLoader

# This project binds its pipelines with kedro-ml-lint's ``pipeline_ml_factory``, not
# kedro-mlflow's. kedro-mlflow's hook registers itself in every project of an
# environment where it is installed, and its default tracking store (``./mlruns``) is
# refused by MLflow 3 — so keep it out of this project's runs. (Kedro matches the
# distribution's metadata name, which is spelled ``kedro_mlflow`` in recent releases.)
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow", "kedro_mlflow")

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
