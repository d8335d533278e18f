"""``MlflowPipelineHook``: lint a PipelineML before its run, log its model after it.

Register it in the project's ``settings.py``::

    from kedro_ml_lint.hooks import MlflowPipelineHook

    HOOKS = (MlflowPipelineHook(),)

The pairs are found by the run's *pipeline names* in the project's registry, never by
``isinstance`` on the pipeline Kedro hands to the hook: since Kedro 1.2 the session sums
the requested pipelines into a plain ``Pipeline``, and a hook that checks the type of that
object silently logs nothing (kedro-mlflow #690).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

from kedro_ml_lint.diagnostics import Violation
from kedro_ml_lint.errors import KedroMlLintError

logger = logging.getLogger(__name__)

DEFAULT_PIPELINE = "__default__"
KML101 = "KML101"


class PipelineContractError(KedroMlLintError):
    """Raised by the hook when a PipelineML about to run (or to be logged) breaks a rule."""

    def __init__(self, violations: Sequence[Violation], when: str, root: Path | None) -> None:
        lines = [_violation_line(v, root) for v in violations]
        count = len(violations)
        super().__init__(
            f"kedro-ml-lint: {when}: {count} violation{'s' if count != 1 else ''}\n"
            + "\n".join(f"  {line}" for line in lines)
        )
        self.violations = list(violations)


def _violation_line(violation: Violation, root: Path | None) -> str:
    where = ""
    if violation.location is not None:
        path = violation.location.path
        if root is not None:
            with suppress(ValueError):
                path = Path(path).resolve().relative_to(root).as_posix()
        where = f"{path}:{violation.location.line}: "
    return f"{where}{violation.code} {violation.message} [{violation.pipeline}]"


class MlflowPipelineHook:
    """Check every PipelineML before it runs; log it as an MLflow model after it ran.

    ``before_pipeline_run`` lints each PipelineML among the run's pipelines (by name in
    the registry) and raises :class:`PipelineContractError`, naming every violation,
    before any node executes. ``after_pipeline_run`` checks that the artifacts are on disk
    (KML101) and logs the model as ``kedro-ml-lint check --log`` does, from the run's own
    catalog (so ``--params`` and ``--load-versions`` of the run are what gets logged). A
    run that executed only part of a pair's training nodes (``--nodes``, ``--tags``…) is
    linted but not logged: its artifacts would mix fresh and stale fits.

    Args:
        tracking_uri: Where to log; else ``MLFLOW_TRACKING_URI``; else MLflow's default.
        experiment: The experiment to log to (created when missing); else MLflow's default.
        registered_model_name: Also register each logged model under this name.
        log_model: ``False`` only lints before the run (and needs no MLflow).
        select: Rule codes or prefixes to run; default: ``[tool.kedro-ml-lint]`` ``select``.
        ignore: Rule codes or prefixes to skip; default: ``[tool.kedro-ml-lint]`` ``ignore``.
            ``per-dataset-ignores`` of that table apply too.

    Raises:
        MlflowNotInstalledError: When ``log_model`` is true and MLflow is not installed.
    """

    def __init__(
        self,
        *,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        registered_model_name: str | None = None,
        log_model: bool = True,
        select: Sequence[str] | None = None,
        ignore: Sequence[str] | None = None,
    ) -> None:
        if log_model:
            from kedro_ml_lint.mlflow.errors import require_supported_versions

            require_supported_versions("`MlflowPipelineHook`")
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.registered_model_name = registered_model_name
        self.log_model = log_model
        self._select = list(select) if select is not None else None
        self._ignore = list(ignore) if ignore is not None else None
        self._per_dataset_ignores: dict[str, Any] = {}
        self._config_loader: Any = None
        self._project_path: Path | None = None
        self._pairs: dict[str, Any] = {}

    # ------------------------------------------------------------------ hooks

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Keep the config loader and the project path for the run's hooks."""
        self._config_loader = context.config_loader
        self._project_path = Path(context.project_path).resolve()
        self._pairs = {}
        # Say which model was logged whenever Kedro itself is chatty (its default).
        if logger.level == logging.NOTSET and logging.getLogger("kedro").isEnabledFor(logging.INFO):
            logger.setLevel(logging.INFO)
        table = _lint_table(self._project_path)
        if isinstance(table.get("per-dataset-ignores"), dict):
            self._per_dataset_ignores = table["per-dataset-ignores"]
        if self._select is None or self._ignore is None:
            if self._select is None and isinstance(table.get("select"), list):
                self._select = [str(code) for code in table["select"]]
            if self._ignore is None and isinstance(table.get("ignore"), list):
                self._ignore = [str(code) for code in table["ignore"]]

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """Lint the PipelineML pairs about to run; raise before any node executes."""
        self._pairs = _requested_pairs(run_params)
        violations = self._lint(
            self._pairs,
            select=self._select,
            ignore=self._ignore,
            per_dataset_ignores=self._per_dataset_ignores,
        )
        if violations:
            self._pairs = {}
            raise PipelineContractError(
                violations, "the run is stopped before any node ran", self._project_path
            )

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        """Check the artifacts are on disk and log each pair that fully ran as a model."""
        pairs, self._pairs = self._pairs, {}
        if not self.log_model or not pairs:
            return
        ran = set(pipeline.nodes)
        complete = {}
        for name, pipeline_ml in pairs.items():
            if set(pipeline_ml.nodes) <= ran:
                complete[name] = pipeline_ml
            else:
                logger.warning(
                    "kedro-ml-lint: not logging `%s`: this run executed only part of its "
                    "training nodes",
                    name,
                )
        violations = self._lint(
            complete, select=[KML101], project_root=self._project_path, artifacts_on_disk=True
        )
        if violations:
            raise PipelineContractError(violations, "the model is not logged", self._project_path)
        if not complete:
            return
        from kedro.framework.project import PACKAGE_NAME

        from kedro_ml_lint.mlflow.publish import log_pipeline_ml

        for model in log_pipeline_ml(
            complete,
            catalog=catalog,
            project_root=self._project_path or Path.cwd(),
            package_name=str(PACKAGE_NAME),
            tracking_uri=self.tracking_uri,
            experiment=self.experiment,
            registered_model_name=self.registered_model_name,
            extra_tags=_training_tags(run_params),
        ):
            logger.info("kedro-ml-lint: logged `%s` as %s", model.pipeline, model.model_uri)

    # ------------------------------------------------------------------ helpers

    def _lint(self, pairs: Mapping[str, Any], **options: Any) -> list[Violation]:
        """``lint_pipelines`` on each pair, with the run's catalog config and parameters."""
        from kedro_ml_lint.api import lint_pipelines

        violations: list[Violation] = []
        for name, pipeline_ml in pairs.items():
            violations += lint_pipelines(
                pipeline_ml,
                pipeline_ml.inference,
                pipeline_ml.input_name,
                catalog_config=self._config("catalog"),
                parameters=self._config("parameters"),
                name=name,
                **options,
            )
        return violations

    def _config(self, key: str) -> dict[str, Any]:
        if self._config_loader is None:
            return {}
        try:
            config = self._config_loader[key]
        except Exception:  # MissingConfigException: no such file is an empty config
            return {}
        return dict(config) if isinstance(config, Mapping) else {}


def _training_tags(run_params: Mapping[str, Any]) -> dict[str, str]:
    """Which training made the model: the Kedro session and, if any, the MLflow run."""
    import mlflow

    from kedro_ml_lint.mlflow.describe import TAG_KEDRO_SESSION, TAG_TRAINING_RUN

    tags = {}
    session_id = run_params.get("run_id") or run_params.get("session_id")  # Kedro 1.x: run_id
    if session_id:
        tags[TAG_KEDRO_SESSION] = str(session_id)
    active = mlflow.active_run()  # kedro-mlflow's training run, when its hook is active
    if active is not None:
        tags[TAG_TRAINING_RUN] = active.info.run_id
    return tags


def _requested_pairs(run_params: Mapping[str, Any]) -> dict[str, Any]:
    """The PipelineML objects among the run's pipelines, by registry name."""
    from kedro.framework.project import pipelines

    from kedro_ml_lint.loader.pairs import is_pipeline_ml

    names = list(run_params.get("pipeline_names") or [])
    if not names and run_params.get("pipeline_name"):
        names = [run_params["pipeline_name"]]
    names = names or [DEFAULT_PIPELINE]
    pairs: dict[str, Any] = {}
    seen: set[int] = set()
    for name in names:
        try:
            candidate = pipelines[name]
        except KeyError:
            continue  # Kedro reports an unknown pipeline itself
        if not is_pipeline_ml(candidate) or id(candidate) in seen:
            continue
        seen.add(id(candidate))
        pairs[_registry_name(name, candidate, pipelines)] = candidate
    return pairs


def _registry_name(name: str, candidate: Any, pipelines: Any) -> str:
    """``__default__`` is usually another pipeline too: report it under that name."""
    if name != DEFAULT_PIPELINE:
        return name
    for other in sorted(pipelines):
        if other != DEFAULT_PIPELINE and pipelines[other] is candidate:
            return str(other)
    return name


def _lint_table(root: Path) -> dict[str, Any]:
    from kedro_ml_lint.loader.pyproject import lint_table, read_pyproject

    try:
        return dict(lint_table(read_pyproject(root)))
    except KedroMlLintError:
        return {}
