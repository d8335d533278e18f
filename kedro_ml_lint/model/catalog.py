"""What the catalog says about one dataset, read from configuration only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kedro_ml_lint.model.redact import redact_value
from kedro_ml_lint.vocabulary import MEMORY_DATASET
from kedro_ml_lint.vocabulary import MEMORY_DATASET_TYPES as MEMORY_TYPES

MLFLOW_ARTIFACT_TYPE = "MlflowArtifactDataset"


class Origin(str, Enum):
    """Which part of the catalog decided a dataset's configuration."""

    ENTRY = "entry"  # an explicit catalog key
    PATTERN = "pattern"  # a dataset factory pattern such as ``{name}_model``
    CATCH_ALL = "catch-all"  # the user's ``{default}``-like pattern
    DEFAULT = "default"  # nothing matched: Kedro creates a MemoryDataset at run time


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset as the catalog configures it, never instantiated.

    Attributes:
        name: The dataset's full name (namespace and transcoding included).
        type: The dataset type string as configured, or ``None`` when unset.
        filepath: Where the data lives, with URL credentials redacted; ``None`` when the
            dataset has no file (SQL tables, APIs, memory).
        origin: Which catalog mechanism produced this configuration.
        key: The catalog key (entry name or pattern) behind it; ``None`` for ``DEFAULT``.
        versioned: True when Kedro keeps one file per version under ``filepath``.
    """

    name: str
    type: str | None
    filepath: str | None
    origin: Origin
    key: str | None = None
    versioned: bool = False

    @classmethod
    def from_config(
        cls, name: str, config: Mapping[str, Any], origin: Origin, key: str | None
    ) -> DatasetSpec:
        """Build a spec from one resolved catalog configuration mapping."""
        return cls(
            name=name,
            type=_type_name(config.get("type")),
            filepath=_filepath_of(config),
            origin=origin,
            key=key,
            versioned=bool(config.get("versioned", False)),
        )

    @classmethod
    def unconfigured(cls, name: str) -> DatasetSpec:
        """The spec of a dataset nothing in the catalog matches: a runtime MemoryDataset."""
        return cls(name=name, type=MEMORY_DATASET, filepath=None, origin=Origin.DEFAULT)

    @property
    def is_memory(self) -> bool:
        """True when Kedro would keep this dataset in memory only."""
        return self.type is not None and self.type.rsplit(".", 1)[-1] in MEMORY_TYPES


def _type_name(dataset_type: Any) -> str | None:
    if dataset_type is None:
        return None
    if isinstance(dataset_type, str):
        return dataset_type
    # A class object given through the Python API.
    return f"{dataset_type.__module__}.{dataset_type.__qualname__}"


def _filepath_of(config: Mapping[str, Any]) -> str | None:
    """The file a dataset reads, when it reads exactly one.

    Only a top-level ``filepath`` counts: a ``PartitionedDataset`` ``path`` is a folder of
    partitions and a ``CachedDataset`` keeps its file one level down, and neither exposes a
    single file MLflow can log. kedro-mlflow's ``MlflowArtifactDataset`` is the exception: it
    *is* its wrapped dataset (a dynamic subclass), file included.
    """
    value = config.get("filepath")
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str) and value:
        return redact_value(value)
    inner = config.get("dataset")
    if str(config.get("type", "")).endswith(MLFLOW_ARTIFACT_TYPE) and isinstance(inner, Mapping):
        return _filepath_of(inner)
    return None
