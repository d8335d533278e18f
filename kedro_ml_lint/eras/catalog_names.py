"""Catalog entries of every Kedro era, with today's dataset type names and wrapper keys.

Dataset type names changed twice: ``kedro.extras.datasets.pandas.CSVDataSet`` (0.17,
0.18) became ``kedro_datasets.pandas.CSVDataSet`` (kedro-datasets 1.x) and then
``…CSVDataset`` (kedro-datasets 2+, Kedro 0.19); ``MemoryDataSet`` became
``MemoryDataset``; kedro-mlflow's ``MlflowArtifactDataSet`` wrapped its dataset under
``data_set:`` until 0.12 and ``dataset:`` since. Entries are normalised to today's names
before they are classified, so a 0.17 catalog is judged as Kedro 0.17 judged it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WRAPPER_KEYS = ("dataset", "data_set")
_EXTRAS_PREFIX = "kedro.extras.datasets."


def normalise_dataset_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """One catalog entry (or pattern) with today's type names and wrapper keys."""
    normalised = dict(config)
    dataset_type = normalised.get("type")
    if isinstance(dataset_type, str):
        normalised["type"] = normalise_type_name(dataset_type)
    for key in _WRAPPER_KEYS:
        inner = normalised.pop(key, None)
        if inner is None:
            continue
        if isinstance(inner, Mapping):
            inner = normalise_dataset_config(inner)
        elif isinstance(inner, str):
            inner = normalise_type_name(inner)
        normalised.setdefault("dataset", inner)
    return normalised


def normalise_type_name(name: str) -> str:
    """``kedro.extras.datasets.pickle.PickleDataSet`` → ``kedro_datasets.pickle.PickleDataset``."""
    if name.startswith(_EXTRAS_PREFIX):
        name = "kedro_datasets." + name[len(_EXTRAS_PREFIX) :]
    module, _, cls = name.rpartition(".")
    if cls.endswith("DataSet"):
        cls = cls[: -len("DataSet")] + "Dataset"
    return f"{module}.{cls}" if module else cls
