"""Build each pair's model before anything touches the tracking store.

In a temporary folder: the model is built, its artifacts resolved, parameters pickled, and
the pickled model is loaded back and run on a few rows of the served input (a corrupt
artifact or an unpicklable node stops here, before MLflow is touched). Those rows are also
the model's input example, checked against the signature as a server will read them. What
comes out is everything ``mlflow.pyfunc.log_model`` will be given.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.pipeline_ml import LOG_MODEL_KWARGS_DEFAULT, normalize_log_model_kwargs
from kedro_ml_lint.publishing.describe import model_tags, pair_params
from kedro_ml_lint.publishing.errors import PublishError, one_line
from kedro_ml_lint.publishing.packaging import project_packages
from kedro_ml_lint.publishing.requirements import (
    imported_modules,
    pip_requirements,
    requirement_file_lines,
)
from kedro_ml_lint.publishing.store import refuse_bad_model_name
from kedro_ml_lint.seams.mlflow_private import parse_serving_input

if TYPE_CHECKING:
    from kedro_ml_lint.publishing.kedro_pipeline_model import KedroPipelineModel

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = LOG_MODEL_KWARGS_DEFAULT["name"]
SMOKE_TEST_ROWS = 5
# ``log_model_kwargs`` keys this module decides itself.
_OWN_KWARGS = frozenset({"python_model", "artifacts", "loader_module", "data_path"})


@dataclass(frozen=True)
class Pair:
    """One pair to log.

    Attributes:
        name: The name the pair is known by.
        inference: The inference ``Pipeline``.
        input_name: The served input.
        kpm_kwargs: ``KedroPipelineModel`` arguments (``copy_mode``, ``runner``).
        log_model_kwargs: ``mlflow.pyfunc.log_model`` arguments; ``signature`` may be
            ``"auto"`` (the default here too).
        training: The training pipeline (its ``params:*`` are logged as run params).
    """

    name: str
    inference: Any
    input_name: str
    kpm_kwargs: Mapping[str, Any] = field(default_factory=dict)
    log_model_kwargs: Mapping[str, Any] = field(default_factory=dict)
    training: Any = None

    @classmethod
    def of(cls, name: str, training: Any, inference: Any, input_name: str) -> Pair:
        """The pair ``training`` declares.

        A ``PipelineML`` (ours or kedro-mlflow's) carries its ``kpm_kwargs`` and
        ``log_model_kwargs``; a plain pipeline has none.
        """
        return cls(
            name=name,
            inference=inference,
            input_name=input_name,
            kpm_kwargs=dict(getattr(training, "kpm_kwargs", None) or {}),
            log_model_kwargs=dict(getattr(training, "log_model_kwargs", None) or {}),
            training=training,
        )


@dataclass(frozen=True)
class ProjectInfo:
    """The project a model comes from, as its tags and requirements describe it.

    Attributes:
        root: The project root (requirements and git commit are read there).
        name: The project's name.
        extra_tags: More tags for every model (the hook's training run id).
    """

    root: Path
    name: str
    extra_tags: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Prepared:
    """A pair's model, ready for ``mlflow.pyfunc.log_model``: built, checked, described."""

    pair: Pair
    model: KedroPipelineModel
    artifacts: dict[str, str]
    log_kwargs: dict[str, Any]
    registered_model_name: str | None
    run_name: str
    tags: dict[str, str]
    params: dict[str, str]


def prepare(
    pair: Pair,
    catalog: Any,
    work: Path,
    code_paths: list[str],
    project: ProjectInfo,
    registered_model_name: str | None,
) -> Prepared:
    """Build ``pair``'s model from ``catalog`` in ``work``, check it predicts, describe it."""
    from kedro_ml_lint.publishing.kedro_pipeline_model import KedroPipelineModel

    kpm_kwargs = dict(pair.kpm_kwargs)
    model = KedroPipelineModel(
        pipeline=pair.inference, catalog=catalog, input_name=pair.input_name, **kpm_kwargs
    )
    artifacts = model.extract_pipeline_artifacts(work / "parameters")
    sample = _load_input(pair, catalog)
    output = _smoke_test(model, artifacts, sample)

    kwargs = {
        k: v
        for k, v in normalize_log_model_kwargs(pair.log_model_kwargs).items()
        if k not in _OWN_KWARGS
    }
    registered = registered_model_name or kwargs.pop("registered_model_name", None)
    kwargs.pop("registered_model_name", None)
    # kedro-mlflow's default name says nothing: the model is named for what it serves.
    name = kwargs.pop("name")
    if name == DEFAULT_MODEL_NAME:
        name = registered or pair.name
    # MLflow would refuse them halfway through logging: refuse them before the store is touched.
    refuse_bad_model_name(registered, what="the registered model name")
    refuse_bad_model_name(name, what=f"the model name of `{pair.name}`", registered=False)
    signature = kwargs.pop("signature")
    if isinstance(signature, str) and signature == "auto":
        signature = _infer_signature(sample, output, model.request_parameters())
    elif isinstance(signature, str):
        raise PublishError(f"`signature` in log_model_kwargs is `{signature}`; use 'auto'")
    # The rows the smoke test ran, unless log_model_kwargs gives an example of its own
    # (``input_example: None`` there logs none).
    example = kwargs.pop("input_example") if "input_example" in kwargs else _head(sample)
    kwargs["input_example"] = _input_example(pair, example, signature)
    kwargs["code_paths"] = code_paths + list(kwargs.get("code_paths") or [])
    if not ("pip_requirements" in kwargs or "conda_env" in kwargs):
        imported = imported_modules(
            model.pipeline, project_packages(model.pipeline), artifacts.values()
        )
        extra = _requirement_list(kwargs.pop("extra_pip_requirements", None))
        kwargs["pip_requirements"] = pip_requirements(project.root, imported, extra)
    tags = model_tags(
        project_name=project.name,
        project_root=project.root,
        pipeline=pair.name,
        input_name=pair.input_name,
        extra=project.extra_tags,
    )
    kwargs["tags"] = {**tags, **dict(kwargs.get("tags") or {})}
    return Prepared(
        pair=pair,
        model=model,
        artifacts=artifacts,
        log_kwargs={"name": name, "signature": signature, **kwargs},
        registered_model_name=registered,
        run_name=registered or pair.name,
        tags=tags,
        params=pair_params(catalog, (pair.training, pair.inference)),
    )


def _requirement_list(value: Any) -> list[str]:
    """MLflow's ``*_pip_requirements``: a list of strings, or the path of a file of them."""
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        return requirement_file_lines(Path(value))
    return [str(item) for item in value]


def _load_input(pair: Pair, catalog: Any) -> Any:
    """The served input's data, when the catalog can load it (else ``None``, and a warning)."""
    try:
        return catalog.load(pair.input_name)
    except Exception as exc:
        logger.warning(
            "`%s`: `%s` cannot be loaded (%s: %s): the model is logged without an input "
            "example, and its signature without inputs",
            pair.name,
            pair.input_name,
            type(exc).__name__,
            one_line(str(exc), 200),
        )
        return None


def _head(sample: Any) -> Any:
    """The first rows of ``sample``, what the smoke test predicts and the example shows."""
    return sample.head(SMOKE_TEST_ROWS) if hasattr(sample, "head") else sample


def _input_example(pair: Pair, example: Any, signature: Any) -> Any:
    """``example`` for ``log_model``, once a server reading it would accept it.

    MLflow writes the serving payload itself (``serving_input_example.json``); here that
    payload is read back as ``mlflow models serve`` reads a request, guided by the
    signature, and checked against the signature with MLflow's ``validate_schema``.

    Returns:
        The example, or ``None`` (and a warning) when MLflow cannot write it as a payload.

    Raises:
        PublishError: When the payload does not match the signature (a server would refuse
            the model's own example).
    """
    if example is None:
        return None
    from mlflow.exceptions import MlflowException
    from mlflow.models import convert_input_example_to_serving_input, validate_schema

    try:
        payload = convert_input_example_to_serving_input(example)
    except Exception as exc:  # a type MLflow cannot write as JSON
        payload, why = None, f"{type(exc).__name__}: {one_line(str(exc), 200)}"
    else:
        why = f"MLflow writes no serving payload for a {type(example).__name__}"
    if payload is None:
        logger.warning("`%s`: the model is logged without an input example (%s)", pair.name, why)
        return None
    inputs = getattr(signature, "inputs", None)
    if inputs is None:  # no schema to check against: MLflow checks it as it logs
        return example
    try:
        validate_schema(parse_serving_input(payload, inputs), inputs)
    except MlflowException as exc:
        raise PublishError(
            f"the input example of `{pair.name}` does not match its signature as a server "
            f"reads it: {one_line(exc.message, 300)}; fix the data, "
            "or give log_model_kwargs an `input_example` (None for none) or a `signature`"
        ) from exc
    return example


def _smoke_test(model: KedroPipelineModel, artifacts: dict[str, str], sample: Any) -> Any:
    """Pickle the model, load it back as MLflow would, and predict a few rows.

    Returns:
        The output on the sample (for the signature), ``None`` without a sample.
    """
    import cloudpickle

    clone = cloudpickle.loads(cloudpickle.dumps(model))
    clone.load_context(SimpleNamespace(artifacts=artifacts, model_config={}))
    if sample is None:
        return None
    return clone.predict(None, _head(sample))


def _infer_signature(sample: Any, output: Any, parameters: dict[str, Any]) -> Any:
    from mlflow.models import infer_signature

    try:
        return infer_signature(model_input=sample, model_output=output, params=parameters)
    except Exception:  # a parameter MLflow cannot describe: leave it out of the signature
        kept = {}
        for key, value in parameters.items():
            try:
                infer_signature(params={key: value})
            except Exception:
                logger.warning("parameter `%s` cannot be overridden at predict time", key)
                continue
            kept[key] = value
        return infer_signature(model_input=sample, model_output=output, params=kept or None)
