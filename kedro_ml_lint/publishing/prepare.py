"""Build each pair's model before anything touches the tracking store.

In a temporary folder: the model is built, its artifacts resolved, parameters pickled, and
the pickled model is loaded back and run on a few rows of the served input (a corrupt
artifact or an unpicklable node stops here, before MLflow is touched). What comes out is
everything ``mlflow.pyfunc.log_model`` will be given.
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
from kedro_ml_lint.publishing.errors import PublishError
from kedro_ml_lint.publishing.packaging import project_packages
from kedro_ml_lint.publishing.requirements import (
    imported_modules,
    pip_requirements,
    requirement_file_lines,
)
from kedro_ml_lint.publishing.store import refuse_bad_model_name

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
    sample = _load_input(catalog, pair.input_name)
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


def _load_input(catalog: Any, input_name: str) -> Any:
    """The served input's data, when the catalog can load it (else ``None``)."""
    try:
        return catalog.load(input_name)
    except Exception:
        return None


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
    head = sample.head(SMOKE_TEST_ROWS) if hasattr(sample, "head") else sample
    return clone.predict(None, head)


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
