"""Write small, real Kedro projects to disk for tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from kedro import __version__ as KEDRO_VERSION

NODES = """
def fit(*args):
    return args[0]


def fit_two(*args):
    return args[0], args[0]


def predict(*args):
    return args[0]
"""

PIPELINES = """
from kedro.pipeline import Pipeline, node

from {package}.nodes import fit, fit_two, predict


def training():
    return Pipeline([
        node(fit, ["features", "params:model_options"], "scaler", name="fit_scaler"),
        node(fit, ["features", "scaler"], "model", name="fit_model"),
    ])


def inference():
    return Pipeline([
        node(predict, ["instances", "scaler", "model", "params:threshold"], "predictions",
             name="predict"),
    ])
"""

REGISTRY = """
from kedro_ml_lint import pipeline_ml_factory

from {package}.pipelines import inference, training


def register_pipelines():
    pair = pipeline_ml_factory(training(), inference(), input_name="instances")
    return {{"training": pair, "inference": inference(), "__default__": pair}}
"""

CATALOG = """
# The served input.
instances:
  type: pandas.CSVDataset
  filepath: data/01_raw/instances.csv

scaler:
  type: pickle.PickleDataset
  filepath: data/06_models/scaler.pkl

model:  # the fitted model
  type: pickle.PickleDataset
  filepath: data/06_models/model.pkl
"""

# The hook that logs the pair after `kedro run`, as users of the pattern write it. Without it,
# kedro-mlflow's hook (registered by the plugin wherever it is installed, unless disabled)
# would be the project's only logger, and it ignores our PipelineML: KML201's trap.
SETTINGS = """
from kedro_ml_lint.hooks import MlflowPipelineHook

HOOKS = (MlflowPipelineHook(),)
"""

PARAMETERS = """
threshold: 0.5
model_options:
  C: 1.0
"""


def write_project(
    root: Path,
    *,
    package: str = "demo",
    catalog: str = CATALOG,
    parameters: str = PARAMETERS,
    pipelines: str = PIPELINES,
    registry: str = REGISTRY,
    nodes: str = NODES,
    pyproject_extra: str = "",
    kedro_version: str = KEDRO_VERSION,
    settings: str = SETTINGS,
) -> Path:
    """Write a minimal Kedro 1.x project whose registry binds a training/inference pair."""
    files = {
        "pyproject.toml": f'''
            [project]
            name = "{package}"
            version = "0.1.0"

            [tool.kedro]
            package_name = "{package}"
            project_name = "{package}"
            kedro_init_version = "{kedro_version}"
            source_dir = "src"
            '''
        + textwrap.dedent(pyproject_extra),
        "conf/base/catalog.yml": catalog,
        "conf/base/parameters.yml": parameters,
        "conf/local/.gitkeep": "",
        f"src/{package}/__init__.py": "",
        f"src/{package}/settings.py": settings,
        f"src/{package}/nodes.py": nodes,
        f"src/{package}/pipelines.py": pipelines.format(package=package),
        f"src/{package}/pipeline_registry.py": registry.format(package=package),
    }
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root
