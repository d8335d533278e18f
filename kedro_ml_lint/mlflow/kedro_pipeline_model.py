"""``KedroPipelineModel``: a Kedro inference pipeline and its artifacts as an MLflow pyfunc model.

What is pickled into the logged model is only what ``predict`` needs: the inference
``Pipeline`` (its node functions by reference — the project's package ships with the model
in ``code_paths``), the names of the served input and of the output, the copy modes, the
runner (``None`` by default) and, per artifact, the dataset class and the arguments that
read its file. Never the catalog, never a dataset object, never credentials.

This module is imported by the serving process. It must stay light: it does not import
``kedro.runner`` (whose import configures Kedro's logging) unless a runner is asked for.
"""

from __future__ import annotations

import copy
import logging
import pickle
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.pipeline import Pipeline
from mlflow.pyfunc import PythonModel

from kedro_ml_lint.mlflow.errors import KedroPipelineModelError

if TYPE_CHECKING:
    from kedro.runner import AbstractRunner

PARAMS_PREFIX = "params:"
ALL_PARAMETERS = "parameters"
RUNNER_PARAM = "runner"
DEFAULT_RUNNER = "SequentialRunner"
COPY_MODES = ("assign", "copy", "deepcopy")
# Dataset constructor arguments that say where the data is or how it is written: the
# served model reads its own copy of the file, so none of them is kept.
_DROPPED_ARGUMENTS = frozenset(
    {"filepath", "path", "version", "versioned", "credentials", "save_args", "metadata"}
)
# Loggers Kedro writes INFO records to while a pipeline runs.
_KEDRO_RUN_LOGGERS = (
    "kedro.pipeline.node",
    "kedro.io.core",
    "kedro.io.data_catalog",
    "kedro.io.memory_dataset",
    "kedro.runner.runner",
    "kedro.runner.sequential_runner",
    "kedro.runner.thread_runner",
    "kedro.framework.project",
)

CopyMode = str | Mapping[str, str | None] | None


# --------------------------------------------------------------------------- quiet runs


class _QuietWhilePredicting(logging.Filter):
    """Drop Kedro's INFO/DEBUG records while at least one ``predict`` is running.

    A filter, not ``setLevel``: levels are process-wide state that concurrent requests
    would race on, while a counter under a lock is exact. Records of WARNING and above
    always pass.
    """

    def __init__(self) -> None:
        super().__init__("kedro")
        self._lock = threading.Lock()
        self._active = 0
        self._installed: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not self._active

    def install(self, *names: str) -> None:
        """Attach to these loggers once (a logger's filters do not see its children)."""
        for name in names:
            if name not in self._installed:
                logging.getLogger(name).addFilter(self)
                self._installed.add(name)

    @contextmanager
    def active(self) -> Iterator[None]:
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1


_QUIET = _QuietWhilePredicting()
_QUIET.install(*_KEDRO_RUN_LOGGERS)


# --------------------------------------------------------------------------- artifacts


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
    init_config = getattr(dataset, "_init_config", None)
    config: dict[str, Any] = dict(init_config()) if callable(init_config) else {}
    dataset_type = config.pop("type", None)
    if not dataset_type:
        dataset_type = f"{type(dataset).__module__}.{type(dataset).__name__}"
    path_argument = "path" if "path" in config and "filepath" not in config else "filepath"
    if path_argument not in config and not hasattr(dataset, "_filepath"):
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
    protocol = getattr(dataset, "_protocol", "file")
    if protocol not in ("file", "local", None):
        raise KedroPipelineModelError(
            f"artifact `{name}` is stored on `{protocol}`, not on the local disk (KML002)"
        )
    get_load_path = getattr(dataset, "_get_load_path", None)
    try:
        if callable(get_load_path):
            path = get_load_path()
        else:  # ``filepath`` datasets keep ``_filepath``; folder datasets (partitions) ``_path``
            path = getattr(dataset, "_filepath", None) or dataset._path
    except Exception as exc:  # kedro's VersionNotFoundError and friends
        raise KedroPipelineModelError(
            f"artifact `{name}` has no version on disk to log: {exc} (KML101)"
        ) from exc
    return Path(str(path)).resolve()


# --------------------------------------------------------------------------- copy modes


def _copy(data: Any, mode: str | None) -> Any:
    """Copy ``data`` the way a Kedro ``MemoryDataset`` with ``copy_mode=mode`` loads it."""
    if mode is None:
        mode = _default_copy_mode(data)
    if mode == "assign":
        return data
    if mode == "copy":
        return data.copy()
    return copy.deepcopy(data)


def _default_copy_mode(data: Any) -> str:
    """Kedro's default: copy pandas and numpy data, assign other data frames, else deepcopy."""
    kind = type(data)
    if kind.__name__ in ("DataFrame", "ndarray") and kind.__module__.split(".", 1)[0] in (
        "pandas",
        "numpy",
    ):
        return "copy"
    if kind.__name__ == "DataFrame" or kind.__module__.split(".", 1)[0] == "ibis":
        return "assign"
    return "deepcopy"


def _copy_modes(copy_mode: CopyMode, datasets: set[str]) -> dict[str, str | None]:
    if copy_mode is None or isinstance(copy_mode, str):
        modes: dict[str, str | None] = dict.fromkeys(datasets, copy_mode)
    elif isinstance(copy_mode, Mapping):
        unknown = sorted(set(copy_mode) - datasets)
        if unknown:
            raise KedroPipelineModelError(
                f"copy_mode names {', '.join(f'`{n}`' for n in unknown)}, which the inference "
                f"pipeline does not read or produce"
            )
        modes = dict.fromkeys(datasets)
        modes.update(copy_mode)
    else:
        raise TypeError(f"'copy_mode' must be a str, a dict or None, not {type(copy_mode)!r}")
    for name, mode in modes.items():
        if mode is not None and mode not in COPY_MODES:
            raise KedroPipelineModelError(
                f"copy_mode of `{name}` is `{mode}`; use one of "
                + ", ".join(f"`{m}`" for m in COPY_MODES)
                + " or None (Kedro's default for the data type)"
            )
    return modes


# --------------------------------------------------------------------------- the model


class KedroPipelineModel(PythonModel):
    """A Kedro inference pipeline, with its fitted artifacts, as an MLflow pyfunc model.

    Args:
        pipeline: The inference ``Pipeline``, or a ``PipelineML`` (ours or kedro-mlflow's),
            whose ``.inference`` is used.
        catalog: The project's ``DataCatalog``. It is read while logging (artifact paths,
            parameter values) and never pickled into the model.
        input_name: The inference input given at predict time.
        runner: A Kedro runner instance; ``None`` runs the nodes in order in the calling
            thread, as ``SequentialRunner`` does, without its per-call set-up.
        copy_mode: How data is copied when a node reads it: ``"assign"``, ``"copy"``,
            ``"deepcopy"``, ``None`` (Kedro's default for the data type), or a
            ``{dataset: mode}`` dict (unnamed datasets get ``None``).

    Raises:
        KedroPipelineModelError: When the pipeline has zero or several outputs,
            ``input_name`` is not one of its inputs, or a ``copy_mode`` is invalid.
    """

    # ``predict`` takes whatever the inference pipeline takes: its input is described by
    # the logged signature, not by a type hint (this also keeps MLflow from asking for one).
    _skip_type_hint_validation = True

    def __init__(
        self,
        pipeline: Pipeline,
        catalog: Any,
        input_name: str,
        runner: AbstractRunner | None = None,
        copy_mode: CopyMode = "assign",
    ) -> None:
        inference = getattr(pipeline, "inference", pipeline)
        if not isinstance(inference, Pipeline):
            raise TypeError(f"'pipeline' must be a kedro Pipeline, not {type(inference)!r}")
        self.pipeline = Pipeline(inference.nodes)
        inputs = self.pipeline.inputs()
        if input_name not in inputs:
            raise KedroPipelineModelError(
                f"`input_name` is `{input_name}`, which is not an input of the inference "
                f"pipeline (inputs: {', '.join(f'`{n}`' for n in sorted(inputs))})"
            )
        outputs = sorted(self.pipeline.outputs())
        if len(outputs) != 1:
            raise KedroPipelineModelError(
                f"the inference pipeline has {len(outputs)} outputs"
                + (f" ({', '.join(f'`{o}`' for o in outputs)})" if outputs else "")
                + "; a served model returns exactly one"
            )
        if runner is not None and type(runner).__name__ == "ParallelRunner":
            raise KedroPipelineModelError(
                "ParallelRunner cannot run a served model (its data must cross processes); "
                "use SequentialRunner or ThreadRunner"
            )
        self.input_name = input_name
        self.output_name = outputs[0]
        self.runner = runner
        self.copy_mode = copy_mode
        self._copy_modes = _copy_modes(copy_mode, self.pipeline.datasets() - {self.output_name})
        self.artifact_names = sorted(inputs - {input_name})
        if ALL_PARAMETERS in self.artifact_names:
            raise KedroPipelineModelError(
                "the inference pipeline reads the whole `parameters` dictionary, which is not "
                "logged with the model; read `params:<name>` instead (KML007)"
            )
        self.parameter_names = [n for n in self.artifact_names if n.startswith(PARAMS_PREFIX)]
        self._catalog = catalog
        self._readers = self._artifact_readers(catalog)
        self._loaded: dict[str, Any] | None = None
        self._memory: dict[str, Any] = {}
        self._runners: dict[str, Any] = {}

    # ---------------------------------------------------------------- pickling

    def __getstate__(self) -> dict[str, Any]:
        # Only what ``predict`` needs: no catalog (credentials), no loaded data.
        state = dict(self.__dict__)
        state["_catalog"] = None
        state["_loaded"] = None
        state["_memory"] = {}
        state["_runners"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # ---------------------------------------------------------------- logging side

    def _artifact_readers(self, catalog: Any) -> dict[str, ArtifactReader]:
        readers = {}
        for name in self.artifact_names:
            if name.startswith(PARAMS_PREFIX):
                readers[name] = ArtifactReader(None)
                continue
            dataset = self._dataset(catalog, name)
            if type(dataset).__name__ in ("MemoryDataset", "SharedMemoryDataset"):
                raise KedroPipelineModelError(
                    f"artifact `{name}` is a MemoryDataset: it is not persisted, so it cannot "
                    "be logged with the model; give it a catalog entry (KML001)"
                )
            readers[name] = _reader_of(name, dataset)
        return readers

    @staticmethod
    def _dataset(catalog: Any, name: str) -> Any:
        if catalog is None:
            raise KedroPipelineModelError("no catalog: this model was loaded, not built")
        try:
            getter = getattr(catalog, "get", None)
            dataset = getter(name) if callable(getter) else catalog[name]
        except Exception as exc:
            raise KedroPipelineModelError(f"the catalog cannot build `{name}`: {exc}") from exc
        if dataset is None:
            raise KedroPipelineModelError(
                f"the catalog has no `{name}`, an input of the inference pipeline"
            )
        return dataset

    def parameters(self) -> dict[str, Any]:
        """The values of the ``params:*`` inputs, by parameter name (without ``params:``).

        Raises:
            KedroPipelineModelError: When the model was loaded, not built from a catalog.
        """
        return {
            name[len(PARAMS_PREFIX) :]: self._dataset(self._catalog, name).load()
            for name in self.parameter_names
        }

    def extract_pipeline_artifacts(
        self, parameters_saving_folder: str | Path | None = None
    ) -> dict[str, str]:
        """The local file of every artifact, for ``mlflow.pyfunc.log_model(artifacts=...)``.

        A versioned dataset resolves to the version it loads (the latest one on disk unless
        the catalog pins one). Each ``params:*`` input is pickled into
        ``parameters_saving_folder``.

        Args:
            parameters_saving_folder: Where parameter pickles are written (required when the
                inference pipeline reads ``params:*``).

        Returns:
            ``{dataset name: absolute local path}``.

        Raises:
            KedroPipelineModelError: When an artifact is not a local file or is missing.
        """
        artifacts: dict[str, str] = {}
        for name in self.artifact_names:
            if name.startswith(PARAMS_PREFIX):
                if parameters_saving_folder is None:
                    raise KedroPipelineModelError(
                        f"`{name}` must be saved with the model: pass parameters_saving_folder"
                    )
                folder = Path(parameters_saving_folder)
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"params_{name[len(PARAMS_PREFIX) :]}.pkl"
                value = self._dataset(self._catalog, name).load()
                with open(path, "wb") as stream:
                    pickle.dump(value, stream)
                artifacts[name] = str(path.resolve())
                continue
            path = _load_path(name, self._dataset(self._catalog, name))
            if not path.exists():
                raise KedroPipelineModelError(
                    f"artifact `{name}` is not on disk at `{path}`; run training first (KML101)"
                )
            artifacts[name] = str(path)
        return artifacts

    # ---------------------------------------------------------------- serving side

    def load_context(self, context: Any) -> None:
        """Load every artifact into memory, once.

        Args:
            context: MLflow's context; ``context.artifacts`` maps each artifact to its file.

        Raises:
            KedroPipelineModelError: When the logged artifacts do not match the pipeline.
        """
        artifacts = dict(context.artifacts)
        expected = set(self.artifact_names)
        if set(artifacts) != expected:
            missing = sorted(expected - set(artifacts))
            extra = sorted(set(artifacts) - expected)
            raise KedroPipelineModelError(
                "the model's artifacts do not match its inference pipeline: "
                f"missing {missing or 'none'}, unexpected {extra or 'none'}"
            )
        self._loaded = {name: self._readers[name].read(artifacts[name]) for name in expected}
        self._memory = {}

    def predict(self, context: Any, model_input, params=None):
        """Run the inference pipeline on ``model_input``.

        Args:
            context: MLflow's context (unused: artifacts were loaded by ``load_context``).
            model_input: The data of ``input_name`` for this call.
            params: Per-call overrides: ``{"threshold": 0.7}`` replaces ``params:threshold``
                for this call only; ``{"runner": "ThreadRunner"}`` picks a Kedro runner.

        Returns:
            The pipeline's single output, as the last node returned it.

        Raises:
            KedroPipelineModelError: When ``load_context`` has not run or a parameter is
                unknown.
        """
        if self._loaded is None:
            raise KedroPipelineModelError("load_context() must run before predict()")
        overrides, runner_name = self._overrides(params)
        runner = self._runner(runner_name)
        with _QUIET.active():
            if runner is None:
                return self._run_inline(model_input, overrides)
            return self._run_with(runner, model_input, overrides)

    def _overrides(self, params: Mapping[str, Any] | None) -> tuple[dict[str, Any], str | None]:
        if not params:
            return {}, None
        overrides: dict[str, Any] = {}
        runner_name = None
        for key, value in params.items():
            if key == RUNNER_PARAM:
                runner_name = value
                continue
            name = PARAMS_PREFIX + key
            if name not in self.parameter_names:
                known = ", ".join(f"`{n[len(PARAMS_PREFIX) :]}`" for n in self.parameter_names)
                raise KedroPipelineModelError(
                    f"unknown parameter `{key}`: the inference pipeline reads "
                    f"{known or 'no parameter'} (and `runner` picks a Kedro runner)"
                )
            overrides[name] = value
        return overrides, runner_name

    def _runner(self, name: str | None) -> Any:
        """The runner for this call: ``None`` means run the nodes inline."""
        if name is None or name == self._runner_name:
            return self.runner
        if name in self._runners:
            return self._runners[name]
        with _QUIET.active():
            from kedro.utils import load_obj

            try:
                runner_class = load_obj(name, "kedro.runner")
            except Exception as exc:
                raise KedroPipelineModelError(f"unknown runner `{name}`: {exc}") from exc
        if runner_class.__name__ == "ParallelRunner":
            raise KedroPipelineModelError("ParallelRunner cannot run a served model")
        runner = self._runners[name] = runner_class()
        return runner

    @property
    def _runner_name(self) -> str:
        return DEFAULT_RUNNER if self.runner is None else type(self.runner).__name__

    def _run_inline(self, model_input: Any, overrides: dict[str, Any]) -> Any:
        """``SequentialRunner``'s semantics: nodes in order, each input copied per its mode."""
        assert self._loaded is not None
        data = {**self._loaded, **overrides, self.input_name: model_input}
        modes = self._copy_modes
        for node in self.pipeline.nodes:
            data.update(node.run({name: _copy(data[name], modes[name]) for name in node.inputs}))
        return data[self.output_name]

    def _run_with(self, runner: Any, model_input: Any, overrides: dict[str, Any]) -> Any:
        """Run through a Kedro runner, on a per-call catalog of ``MemoryDataset``s.

        The artifacts' datasets are built once and shared by every call (loading copies
        per the copy mode; nothing writes to them); only the served input, the overridden
        parameters and the intermediate datasets are new per call.
        """
        from kedro.io import DataCatalog, MemoryDataset

        assert self._loaded is not None
        _QUIET.install(type(runner).__module__)
        modes = self._copy_modes
        if not self._memory:
            self._memory = {
                name: MemoryDataset(data=value, copy_mode=modes[name])  # type: ignore[arg-type]
                for name, value in self._loaded.items()
            }
        datasets = dict(self._memory)
        for name, value in overrides.items():
            datasets[name] = MemoryDataset(data=value, copy_mode=modes[name])  # type: ignore[arg-type]
        datasets[self.input_name] = MemoryDataset(
            data=model_input,
            copy_mode=modes[self.input_name],  # type: ignore[arg-type]
        )
        for name in self.pipeline.datasets() - self.pipeline.inputs() - {self.output_name}:
            datasets[name] = MemoryDataset(copy_mode=modes[name])  # type: ignore[arg-type]
        # The output keeps what the node returned: "assign".
        datasets[self.output_name] = MemoryDataset(copy_mode="assign")
        catalog = DataCatalog(datasets=datasets)
        runner.run(self.pipeline, catalog)
        return datasets[self.output_name].load()
