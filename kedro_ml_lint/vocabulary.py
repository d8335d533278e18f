"""Kedro's and kedro-ml-lint's words, written once (design §8).

The lowest layer: every module may import it and it imports nothing. A name here is a
string Kedro, MLflow or the user's project gives meaning to; changing one is a change of
contract, not a refactoring.
"""

from __future__ import annotations

# Kedro: dataset names.
PARAMS_PREFIX = "params:"  # ``params:<key>``: one parameter as a node input
ALL_PARAMETERS = "parameters"  # the whole parameters dict as a node input
TRANSCODING_SEPARATOR = "@"  # ``name@format``: one dataset, two formats

# Kedro: the pipeline a bare ``kedro run`` runs.
DEFAULT_PIPELINE = "__default__"

# Kedro: datasets that keep their data in the process, by class name.
MEMORY_DATASET = "MemoryDataset"  # what Kedro creates for a name the catalog lacks
MEMORY_DATASET_TYPES = frozenset({MEMORY_DATASET, "SharedMemoryDataset"})

# fsspec protocols that name a file on this machine (Kedro's ``_protocol``).
LOCAL_PROTOCOLS = frozenset({"file", "local"})

# The file that makes a folder a Kedro project and holds ``[tool.kedro-ml-lint]``.
PYPROJECT = "pyproject.toml"

# kedro-ml-lint's cache folder in the project root (it holds its own ``.gitignore``).
CACHE_DIR = ".kedro-ml-lint-cache"

# MLflow tags kedro-ml-lint writes on the runs and model versions it creates.
TAG_PREFIX = "kedro_ml_lint."
