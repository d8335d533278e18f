"""``KedroPipelineModel``: a Kedro inference pipeline and its artifacts as an MLflow pyfunc model.

What is pickled into the logged model is only what ``predict`` needs: the inference
``Pipeline`` (the project's own modules by value, so the model needs no copy of the project
to load; installed libraries by reference), the names of the served input and of the
output, the copy modes, the runner (``None`` by default) and, per artifact, the dataset
class and the arguments that read its file. Never the catalog, never a dataset object,
never credentials.

This module is imported by the serving process. It must stay light: it does not import
``kedro.runner`` (whose import configures Kedro's logging) unless a runner is asked for.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kedro.pipeline import Pipeline
from mlflow.pyfunc import PythonModel

from kedro_ml_lint.artifacts import (
    artifact_paths,
    artifact_reader,
    catalog_dataset,
)
from kedro_ml_lint.publishing.errors import KedroPipelineModelError
from kedro_ml_lint.publishing.packaging import pickle_by_value
from kedro_ml_lint.publishing.quiet import QUIET_WHILE_PREDICTING as _QUIET
from kedro_ml_lint.publishing.request_params import (
    RUNNER_PARAM,
    refuse_unknown_params,
    request_keys,
    resolve,
)
from kedro_ml_lint.vocabulary import ALL_PARAMETERS, PARAMS_PREFIX

if TYPE_CHECKING:
    from kedro.runner import AbstractRunner

DEFAULT_RUNNER = "SequentialRunner"
COPY_MODES = ("assign", "copy", "deepcopy")
CopyMode = str | Mapping[str, str | None] | None


class UnknownRunnerError(KedroPipelineModelError, AttributeError):
    """A request names a runner ``kedro.runner`` does not have.

    Also ``AttributeError``: what kedro-mlflow's ``KedroPipelineModel`` raises then.
    """


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
        pipeline: Pipeline | None = None,
        catalog: Any = None,
        input_name: str | None = None,
        runner: AbstractRunner | None = None,
        copy_mode: CopyMode = "assign",
        *,
        pipeline_ml: Any = None,
    ) -> None:
        if pipeline_ml is not None:
            # The seed's form: ``KedroPipelineModel(pipeline_ml=..., catalog=..., **kpm_kwargs)``.
            if pipeline is not None:
                raise TypeError("give 'pipeline' or 'pipeline_ml', not both")
            pipeline = pipeline_ml
            if input_name is None:
                input_name = getattr(pipeline_ml, "input_name", None)
        if pipeline is None:
            raise TypeError("KedroPipelineModel needs 'pipeline' (or 'pipeline_ml')")
        inference = getattr(pipeline, "inference", pipeline)
        if not isinstance(inference, Pipeline):
            raise TypeError(f"'pipeline' must be a kedro Pipeline, not {type(inference)!r}")
        if input_name is None:
            input_name = getattr(pipeline, "input_name", None)
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
        self.input_name: str = str(input_name)
        self.output_name = outputs[0]
        self.runner = runner
        self.copy_mode = copy_mode
        self._copy_modes = _copy_modes(copy_mode, self.pipeline.datasets() - {self.output_name})
        self.artifact_names = sorted(inputs - {self.input_name})
        if ALL_PARAMETERS in self.artifact_names:
            raise KedroPipelineModelError(
                "the inference pipeline reads the whole `parameters` dictionary, which is not "
                "logged with the model; read `params:<name>` instead (KML007)"
            )
        self.parameter_names = [n for n in self.artifact_names if n.startswith(PARAMS_PREFIX)]
        self._catalog = catalog
        self._readers = {name: artifact_reader(catalog, name) for name in self.artifact_names}
        self._loaded: dict[str, Any] | None = None
        self._memory: dict[str, Any] = {}
        self._runners: dict[str, Any] = {}

    # ---------------------------------------------------------------- pickling

    def __getstate__(self) -> dict[str, Any]:
        # Only what ``predict`` needs: no catalog (credentials), no loaded data. The
        # pipeline goes as bytes in which the project's own modules are pickled by value,
        # whoever pickles the model: it then loads where the project's package is not
        # importable (another folder, a Spark executor), even with no ``code_paths``.
        state = dict(self.__dict__)
        state["pipeline"] = pickle_by_value(self.pipeline)
        state["_catalog"] = None
        state["_loaded"] = None
        state["_memory"] = {}
        state["_runners"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("pipeline"), bytes):
            import cloudpickle

            state = {**state, "pipeline": cloudpickle.loads(state["pipeline"])}
        self.__dict__.update(state)

    # ---------------------------------------------------------------- logging side

    def parameters(self) -> dict[str, Any]:
        """The values of the ``params:*`` inputs, by parameter name (without ``params:``).

        Raises:
            KedroPipelineModelError: When the model was loaded, not built from a catalog.
        """
        return {
            name[len(PARAMS_PREFIX) :]: catalog_dataset(self._catalog, name).load()
            for name in self.parameter_names
        }

    def extract_pipeline_artifacts(self, parameters_saving_folder: Any = None) -> dict[str, str]:
        """The local file of every artifact, for ``mlflow.pyfunc.log_model(artifacts=...)``.

        A versioned dataset resolves to the version it loads (the latest one on disk unless
        the catalog pins one). Each ``params:*`` input is pickled into
        ``parameters_saving_folder`` (a new temporary folder when ``None``).

        Args:
            parameters_saving_folder: Where parameter pickles are written: a path, a string
                or a ``tempfile.TemporaryDirectory`` (kedro-mlflow's tests pass one); only
                read when there is a parameter to write.

        Returns:
            ``{dataset name: absolute local path}``.

        Raises:
            KedroPipelineModelError: When an artifact is not a local file or is missing.
        """
        return artifact_paths(self._catalog, self.artifact_names, parameters_saving_folder)

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
        refuse_unknown_params(request_keys(self.parameter_names))

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
        assert self._loaded is not None
        return resolve(params, request_keys(self.parameter_names), self._loaded)

    def request_parameters(self) -> dict[str, Any]:
        """What a request may set, with its default value.

        Each parameter by its full dotted key and, when unambiguous, by its last component;
        and ``runner``.

        Raises:
            KedroPipelineModelError: When the model was loaded, not built from a catalog.
        """
        values = self.parameters()
        keys = request_keys(self.parameter_names)
        return {
            **{key: values[name[len(PARAMS_PREFIX) :]] for key, name in keys.items()},
            RUNNER_PARAM: self._runner_name,
        }

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
                raise UnknownRunnerError(f"unknown runner `{name}`: {exc}") from exc
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
