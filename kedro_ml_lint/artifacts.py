"""Artifacts of a pair: where each one's file is, and how to read it back.

Imports neither MLflow nor anything that does: it sits below ``pipeline_ml``, whose
``PipelineML.extract_pipeline_artifacts`` (the seed's API, which must never import MLflow)
uses it as much as the publishing model does.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro.io import DatasetNotFoundError

from kedro_ml_lint.errors import KedroPipelineModelError
from kedro_ml_lint.seams.kedro_private import (
    dataset_init_config,
    dataset_load_path,
    dataset_protocol,
    dataset_reads_a_file,
)
from kedro_ml_lint.vocabulary import LOCAL_PROTOCOLS
from kedro_ml_lint.vocabulary import MEMORY_DATASET_TYPES as MEMORY_DATASETS
from kedro_ml_lint.vocabulary import PARAMS_PREFIX as PARAMS_PREFIX

# Dataset constructor arguments that say where the data is or how it is written: the
# served model reads its own copy of the file, so none of them is kept.
_DROPPED_ARGUMENTS = frozenset(
    {"filepath", "path", "version", "versioned", "credentials", "save_args", "metadata"}
)


class ArtifactNotInCatalogError(KedroPipelineModelError, DatasetNotFoundError):
    """An inference input is not in the catalog the model is built from.

    Also Kedro's ``DatasetNotFoundError``: what kedro-mlflow's ``KedroPipelineModel`` raises
    then, so callers that catch it keep working after switching.
    """


@dataclass(frozen=True)
class ArtifactReader:
    """How to read one artifact's file: a dataset class and its reading arguments.

    Attributes:
        dataset_type: The dataset class, as ``module.Class``; ``None`` for a pickled parameter.
        arguments: Constructor arguments other than the location, versioning, saving and
            credentials (``load_args``, ``backend``…).
    """

    dataset_type: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    path_argument: str = "filepath"

    def read(self, path: str) -> Any:
        """Load the data at ``path``."""
        if self.dataset_type is None:
            with open(path, "rb") as stream:
                return pickle.load(stream)
        from kedro.utils import load_obj

        dataset_class = load_obj(self.dataset_type)
        return dataset_class(**{self.path_argument: path}, **self.arguments).load()


def _reader_of(name: str, dataset: Any) -> ArtifactReader:
    config = dataset_init_config(dataset)
    dataset_type = config.pop("type", None)
    if not dataset_type:
        dataset_type = f"{type(dataset).__module__}.{type(dataset).__name__}"
    path_argument = "path" if "path" in config and "filepath" not in config else "filepath"
    if path_argument not in config and not dataset_reads_a_file(dataset):
        raise KedroPipelineModelError(
            f"artifact `{name}` ({type(dataset).__name__}) is not read from a file, so it "
            "cannot be logged with the model (KML002)"
        )
    arguments = {k: v for k, v in config.items() if k not in _DROPPED_ARGUMENTS and v is not None}
    # fsspec arguments may carry storage secrets; a local file needs at most its open mode.
    fs_args = arguments.pop("fs_args", None) or {}
    if fs_args.get("open_args_load"):
        arguments["fs_args"] = {"open_args_load": fs_args["open_args_load"]}
    return ArtifactReader(str(dataset_type), arguments, path_argument)


def _load_path(name: str, dataset: Any) -> Path:
    """The local file a dataset loads from: for a versioned one, the version on disk."""
    protocol = dataset_protocol(dataset)
    if protocol is not None and protocol not in LOCAL_PROTOCOLS:
        raise KedroPipelineModelError(
            f"artifact `{name}` is stored on `{protocol}`, not on the local disk (KML002)"
        )
    try:
        path = dataset_load_path(dataset)
    except Exception as exc:  # kedro's VersionNotFoundError and friends
        raise KedroPipelineModelError(
            f"artifact `{name}` has no version on disk to log: {exc} (KML101)"
        ) from exc
    return Path(str(path)).resolve()


def catalog_dataset(catalog: Any, name: str) -> Any:
    """The dataset ``name`` of a Kedro ``DataCatalog``, or a one-line error."""
    if catalog is None:
        raise KedroPipelineModelError("no catalog: this model was loaded, not built")
    missing = f"the catalog has no `{name}`, an input of the inference pipeline"
    try:
        getter = getattr(catalog, "get", None)
        dataset = getter(name) if callable(getter) else catalog[name]
    except DatasetNotFoundError as exc:
        raise ArtifactNotInCatalogError(missing) from exc
    except Exception as exc:
        raise KedroPipelineModelError(f"the catalog cannot build `{name}`: {exc}") from exc
    if dataset is None:
        raise ArtifactNotInCatalogError(missing)
    return dataset


def artifact_reader(catalog: Any, name: str) -> ArtifactReader:
    """How the served model reads artifact ``name`` (a pickle for a ``params:*`` value)."""
    if name.startswith(PARAMS_PREFIX):
        return ArtifactReader(None)
    return _reader_of(name, _persisted_dataset(catalog, name))


def _persisted_dataset(catalog: Any, name: str) -> Any:
    dataset = catalog_dataset(catalog, name)
    if type(dataset).__name__ in MEMORY_DATASETS:
        raise KedroPipelineModelError(
            f"artifact `{name}` is a MemoryDataset: it is not persisted, so it cannot "
            "be logged with the model; give it a catalog entry (KML001)"
        )
    return dataset


def _saving_folder(folder: Any) -> Path:
    """A folder given as a path, a string or a ``tempfile.TemporaryDirectory``."""
    if isinstance(folder, tempfile.TemporaryDirectory):
        return Path(folder.name)
    return Path(folder)


def artifact_paths(
    catalog: Any, names: Iterable[str], parameters_saving_folder: Any = None
) -> dict[str, str]:
    """The local file of every artifact, for ``mlflow.pyfunc.log_model(artifacts=...)``.

    A versioned dataset resolves to the version it loads (the latest one on disk unless
    the catalog pins one). Each ``params:*`` value is pickled into
    ``parameters_saving_folder`` (a new temporary folder when ``None``, left for the
    caller's ``log_model`` to copy: MLflow reads artifacts when logging, not before).

    Args:
        catalog: The project's ``DataCatalog``.
        names: The artifacts: every inference input except the served one.
        parameters_saving_folder: Where parameter pickles are written: a path, a string or
            a ``tempfile.TemporaryDirectory``; read only when there is a parameter to write,
            as kedro-mlflow reads it.

    Returns:
        ``{dataset name: absolute local path}``.

    Raises:
        KedroPipelineModelError: When an artifact is not a local file or is missing.
    """
    artifacts: dict[str, str] = {}
    folder: Path | None = None
    for name in names:
        if name.startswith(PARAMS_PREFIX):
            if folder is None and parameters_saving_folder is not None:
                folder = _saving_folder(parameters_saving_folder)
            if folder is None:
                folder = Path(tempfile.mkdtemp(prefix="kedro-ml-lint-params-"))
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"params_{name[len(PARAMS_PREFIX) :]}.pkl"
            value = catalog_dataset(catalog, name).load()
            with open(path, "wb") as stream:
                pickle.dump(value, stream)
            artifacts[name] = str(path.resolve())
            continue
        path = _load_path(name, _persisted_dataset(catalog, name))
        if not path.exists():
            raise KedroPipelineModelError(
                f"artifact `{name}` is not on disk at `{path}`; run training first (KML101)"
            )
        artifacts[name] = str(path)
    return artifacts
