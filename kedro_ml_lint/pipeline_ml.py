"""``PipelineML``: a training pipeline that knows its inference pipeline."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from kedro.pipeline import Pipeline
from kedro.pipeline.node import Node

from kedro_ml_lint.artifacts import artifact_paths

# kedro-mlflow's defaults, filled in at construction so that readers find them.
LOG_MODEL_KWARGS_DEFAULT: Mapping[str, Any] = {"name": "model", "signature": "auto"}

# Methods of ``Pipeline`` that select a subset of nodes: on a PipelineML they select
# training nodes and keep the binding to the inference pipeline.
_FILTERS = (
    "only_nodes",
    "only_nodes_with_namespaces",
    "only_nodes_with_namespace",  # Kedro 0.19's name
    "only_nodes_with_inputs",
    "only_nodes_with_outputs",
    "only_nodes_with_tags",
    "from_inputs",
    "to_outputs",
    "from_nodes",
    "to_nodes",
    "filter",
    "tag",
)


class PipelineML(Pipeline):
    """A Kedro ``Pipeline`` of training nodes, bound to the inference pipeline they feed.

    Constructing one never raises for a broken contract: ``kedro-ml-lint check`` and
    :class:`~kedro_ml_lint.hooks.MlflowPipelineHook` report every violation at once,
    instead of one exception that takes the whole pipeline registry down.

    Args:
        nodes: The training nodes (or pipelines).
        inference: The pipeline logged as the model and run at predict time.
        input_name: The inference input that callers provide at predict time.
        kpm_kwargs: Extra arguments for ``KedroPipelineModel`` (``copy_mode``, ``runner``).
        log_model_kwargs: Extra arguments for ``mlflow.pyfunc.log_model``, as kedro-mlflow
            keeps them: ``name`` defaults to ``"model"`` and ``signature`` to ``"auto"``;
            MLflow 2's ``artifact_path`` is read as ``name``.
        tags: Tags to apply to every training node.
    """

    def __init__(
        self,
        nodes: Iterable[Node | Pipeline] | Pipeline,
        *,
        inference: Pipeline,
        input_name: str | None,
        kpm_kwargs: dict[str, Any] | None = None,
        log_model_kwargs: dict[str, Any] | None = None,
        tags: str | Iterable[str] | None = None,
    ) -> None:
        if not isinstance(inference, Pipeline):
            raise TypeError(f"'inference' must be a kedro Pipeline, not {type(inference)!r}")
        if input_name is not None and not isinstance(input_name, str):
            raise TypeError(f"'input_name' must be a dataset name, not {type(input_name)!r}")
        if isinstance(nodes, Pipeline) and tags is None:
            # Already built and validated by Kedro: share its state instead of building the
            # same Pipeline a second time (18 % of `check` at 100k nodes).
            self.__dict__.update(vars(nodes))
        else:
            super().__init__(nodes, tags=tags)
        self.inference = inference
        self.input_name = input_name
        self.kpm_kwargs: dict[str, Any] = dict(kpm_kwargs or {})
        # Kept even when MLflow would refuse them: KML205 says so before anything runs.
        self.log_model_kwargs: dict[str, Any] = normalize_log_model_kwargs(
            log_model_kwargs, strict=False
        )
        # Why kedro-mlflow refused this pair, when the linter built it in its place.
        self.rejected_by: str | None = None
        # ``(file, line)`` of the factory call, where pair-level violations point.
        self.call_site: tuple[str, int] | None = None

    @property
    def training(self) -> Pipeline:
        """The training nodes as a plain ``Pipeline``."""
        return Pipeline(self.nodes)

    def extract_pipeline_artifacts(
        self, catalog: Any, parameters_saving_folder: str | Path | None = None
    ) -> dict[str, str]:
        """The local file of every artifact of the pair, read from a Kedro ``DataCatalog``.

        The seed's form: pass the result as ``mlflow.pyfunc.log_model(artifacts=...)``.
        Artifacts are the inference inputs except ``input_name``; a versioned dataset gives
        the version it loads; each ``params:*`` value is pickled into
        ``parameters_saving_folder`` (a new temporary folder when ``None``).

        Args:
            catalog: The project's ``DataCatalog`` (``session.load_context().catalog``).
            parameters_saving_folder: Where parameter pickles are written.

        Returns:
            ``{dataset name: absolute local path}``.

        Raises:
            KedroPipelineModelError: When an artifact is in memory, remote or not on disk.
        """
        names = sorted(self.inference.inputs() - {self.input_name})
        return artifact_paths(catalog, names, parameters_saving_folder)

    def _rebind(self, training: Pipeline) -> PipelineML:
        bound = PipelineML(
            training,
            inference=self.inference,
            input_name=self.input_name,
            kpm_kwargs=self.kpm_kwargs,
            log_model_kwargs=self.log_model_kwargs,
        )
        bound.call_site = self.call_site
        return bound

    def __and__(self, other: Any) -> Any:
        result = self.training.__and__(other)
        return result if result is NotImplemented else self._rebind(result)

    def __sub__(self, other: Any) -> Any:
        result = self.training.__sub__(other)
        return result if result is NotImplemented else self._rebind(result)

    def __add__(self, other: Any) -> Any:
        # Kedro >= 1.2 sums the requested pipelines onto an empty one: keep the binding
        # then. A union with other nodes is no longer one pair, so it is a plain Pipeline.
        if isinstance(other, Pipeline) and not other.nodes:
            return self
        return self.training.__add__(other)

    def __radd__(self, other: Any) -> Any:
        if (isinstance(other, Pipeline) and not other.nodes) or other == 0:
            return self
        return self.training.__radd__(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PipelineML):
            return NotImplemented
        return (
            set(self.nodes) == set(other.nodes)
            and set(self.inference.nodes) == set(other.inference.nodes)
            and self.input_name == other.input_name
            and self.kpm_kwargs == other.kpm_kwargs
            and self.log_model_kwargs == other.log_model_kwargs
        )

    __hash__ = Pipeline.__hash__


def normalize_log_model_kwargs(
    log_model_kwargs: Mapping[str, Any] | None, *, strict: bool = True
) -> dict[str, Any]:
    """kedro-mlflow's ``log_model_kwargs``: defaults filled, ``artifact_path`` read as ``name``.

    Args:
        log_model_kwargs: The arguments as given.
        strict: Raise when both ``name`` and ``artifact_path`` are given; else keep both,
            for KML205 to report before anything is logged.

    Raises:
        ValueError: When ``strict`` and both ``name`` and ``artifact_path`` are given.
    """
    given = dict(log_model_kwargs or {})
    if "artifact_path" in given:
        if "name" in given and not strict:
            return {**LOG_MODEL_KWARGS_DEFAULT, **given}
        if "name" in given:
            raise ValueError(
                "log_model_kwargs gives both 'name' and 'artifact_path' (MLflow 2's name for "
                "it); keep 'name'"
            )
        given["name"] = given.pop("artifact_path")
    return {**LOG_MODEL_KWARGS_DEFAULT, **given}


def _filtering(method_name: str) -> Callable[..., PipelineML]:
    method = getattr(Pipeline, method_name)

    def filtered(self: PipelineML, *args: Any, **kwargs: Any) -> PipelineML:
        return self._rebind(method(self.training, *args, **kwargs))

    filtered.__name__ = method_name
    filtered.__doc__ = f"``Pipeline.{method_name}`` on the training nodes; stays bound."
    return filtered


for _name in _FILTERS:
    if hasattr(Pipeline, _name):  # the installed Kedro's filters (0.19 and 1.x differ)
        setattr(PipelineML, _name, _filtering(_name))


CALL_SITE = "call_site"


def remember_call_site(pipeline: Any, depth: int) -> None:
    """Record on ``pipeline`` the ``(file, line)`` of the frame ``depth`` levels up.

    Pair-level violations point there: the line that binds training to inference.
    """
    frame = sys._getframe(depth + 1)
    # An object that refuses attributes gets no location: no harm done.
    with contextlib.suppress(AttributeError):
        setattr(pipeline, CALL_SITE, (frame.f_code.co_filename, frame.f_lineno))


def pipeline_ml_factory(
    training: Pipeline,
    inference: Pipeline,
    input_name: str | None,
    kpm_kwargs: dict[str, Any] | None = None,
    log_model_kwargs: dict[str, Any] | None = None,
) -> PipelineML:
    """Bind a training pipeline to the inference pipeline it feeds.

    Same signature as kedro-mlflow's ``pipeline_ml_factory``, so switching is an import.

    Args:
        training: Fits every artifact inference needs (model, scaler, encoder…).
        inference: Reads those artifacts plus ``input_name``; has exactly one output.
        input_name: The inference input provided at predict time.
        kpm_kwargs: Extra ``KedroPipelineModel`` arguments (``copy_mode``, ``runner``).
        log_model_kwargs: Extra ``mlflow.pyfunc.log_model`` arguments.

    Returns:
        A :class:`PipelineML` holding the training nodes.
    """
    pipeline_ml = PipelineML(
        training,
        inference=inference,
        input_name=input_name,
        kpm_kwargs=kpm_kwargs,
        log_model_kwargs=log_model_kwargs,
    )
    remember_call_site(pipeline_ml, depth=1)
    return pipeline_ml
