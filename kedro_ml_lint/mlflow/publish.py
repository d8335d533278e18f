"""Log clean pairs as MLflow pyfunc models: what ``check --log`` and the hook call.

Logging is all or nothing. Everything that can fail without the tracking store is done
first, in a temporary folder: the model is built, its artifacts resolved, parameters
pickled, and the pickled model is loaded back and run on a few rows of the served input
(a corrupt artifact or an unpicklable node stops here, before MLflow is touched). Then
each pair is logged in a run of its own; a version is registered only after its model is
logged. If anything fails, every record made so far is removed — registered versions (and
a registered model this call created), logged models and their artifacts, the runs (marked
``FAILED``, then deleted) and an experiment this call created — and ``PublishError`` says
what failed.

The project's catalog is built by its own context class and config loader with an *empty*
hook manager: no project hook and no plugin hook (kedro-mlflow's auto-registered
``MlflowHook`` among them) runs, so none can switch the tracking URI or open a run.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.mlflow.errors import PublishError, require_mlflow

if TYPE_CHECKING:
    from kedro_ml_lint.api import LintResult
    from kedro_ml_lint.mlflow.kedro_pipeline_model import KedroPipelineModel

logger = logging.getLogger(__name__)

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_NAME_ENV = "MLFLOW_EXPERIMENT_NAME"
EXPERIMENT_ID_ENV = "MLFLOW_EXPERIMENT_ID"
RUN_ID_ENV = "MLFLOW_RUN_ID"
PARENT_RUN_TAG = "mlflow.parentRunId"
DEFAULT_EXPERIMENT = "Default"
DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_MODEL_NAME = "model"
SMOKE_TEST_ROWS = 5
REACHABLE_TIMEOUT = 5  # seconds for one look at an HTTP tracking server before logging
CACHE_DIR_ENV = "KEDRO_ML_LINT_CACHE_DIR"
# How a request to a tracking server that is not there fails (urllib3, requests, MLflow).
CONNECTION_ERRORS = (
    "Connection refused",
    "Connection aborted",
    "Connection reset",
    "Max retries exceeded",
    "Failed to establish a new connection",
)
# Our own distribution: its code ships with the model (``code_paths``), so it is never a
# pip requirement of the served model.
_OWN_DISTRIBUTIONS = frozenset({"kedro-ml-lint"})
# Pinned to the versions the model was built and checked with.
_PINNED = ("kedro", "kedro-datasets", "cloudpickle")
# ``log_model_kwargs`` keys this module decides itself.
_OWN_KWARGS = frozenset({"python_model", "artifacts", "loader_module", "data_path"})
RUN_TAG_PIPELINE = "kedro_ml_lint.pipeline"
RUN_TAG_PROJECT = "kedro_ml_lint.project"


@dataclass(frozen=True)
class PublishedModel:
    """A model that was logged.

    Attributes:
        pipeline: The name of the pair (registry key of the ``PipelineML``).
        model_uri: ``models:/<model id>``, for ``mlflow models serve -m``.
        run_id: The MLflow run that logged it.
        model_id: MLflow's id of the logged model.
        registered_model: The registered model's name, when one was registered.
        registered_version: The registered model version, when one was registered.
    """

    pipeline: str
    model_uri: str
    run_id: str
    model_id: str
    registered_model: str | None = None
    registered_version: str | None = None


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
    """

    name: str
    inference: Any
    input_name: str
    kpm_kwargs: Mapping[str, Any] = field(default_factory=dict)
    log_model_kwargs: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, pipeline_ml: Any) -> Pair:
        """The pair a ``PipelineML`` (ours or kedro-mlflow's) declares."""
        return cls(
            name=name,
            inference=pipeline_ml.inference,
            input_name=pipeline_ml.input_name,
            kpm_kwargs=dict(getattr(pipeline_ml, "kpm_kwargs", None) or {}),
            log_model_kwargs=dict(getattr(pipeline_ml, "log_model_kwargs", None) or {}),
        )


# --------------------------------------------------------------------------- entry points


def log_models(
    result: LintResult,
    *,
    env: str | None = None,
    conf_source: str | None = None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    registered_model_name: str | None = None,
) -> list[PublishedModel]:
    """Log every pair of a clean ``lint_project`` result, as ``check --log`` does.

    Call it only when ``lint_project(..., artifacts_on_disk=True)`` returned no violation,
    with the same ``env`` and ``conf_source``.

    Args:
        result: What ``lint_project`` found (its pairs carry their kedro pipelines).
        env: The configuration environment the project was checked with.
        conf_source: The configuration folder the project was checked with.
        tracking_uri: Where to log; else ``MLFLOW_TRACKING_URI``; else MLflow's default.
        experiment: The experiment name (created when missing); else MLflow's default.
        registered_model_name: Register the model under this name (one pair only).

    Returns:
        One entry per logged pair, in the order of ``result.pairs``.

    Raises:
        MlflowNotInstalledError: When MLflow is not installed.
        PublishError: When a violation remains or logging fails; nothing is then left in
            the tracking store.
    """
    require_mlflow("`check --log`")
    if result.violations:
        codes = sorted({v.code for v in result.violations})
        raise PublishError(
            f"not logging: {len(result.violations)} violation(s) remain ({', '.join(codes)})"
        )
    missing = sorted(
        name for model in result.models for name in (model.missing_on_disk or frozenset())
    )
    if any(model.missing_on_disk is None for model in result.models):
        raise PublishError(
            "not logging: artifacts were not checked on disk; lint with "
            "`lint_project(..., artifacts_on_disk=True)` first (KML101)"
        )
    if missing:  # KML101 reports these as violations
        raise PublishError(f"not logging: not on disk yet: {', '.join(missing)} (KML101)")
    pairs = []
    for declaration in result.declarations:
        if declaration.input_name is None:  # KML005
            raise PublishError(f"pair `{declaration.name}` has no `input_name` (KML005)")
        training = declaration.training
        pairs.append(
            Pair(
                name=declaration.name,
                inference=declaration.inference,
                input_name=declaration.input_name,
                kpm_kwargs=dict(getattr(training, "kpm_kwargs", None) or {}),
                log_model_kwargs=dict(getattr(training, "log_model_kwargs", None) or {}),
            )
        )
    with _quiet_kedro():
        package_name, catalog = project_catalog(result.project, env, conf_source)
    return publish(
        pairs,
        catalog=catalog,
        project_root=result.project,
        package_name=package_name,
        tracking_uri=tracking_uri,
        experiment=experiment,
        registered_model_name=registered_model_name,
    )


def log_pipeline_ml(
    pipelines: Mapping[str, Any],
    *,
    catalog: Any,
    project_root: str | Path,
    package_name: str,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    registered_model_name: str | None = None,
) -> list[PublishedModel]:
    """Log ``PipelineML`` objects (ours or kedro-mlflow's) with a catalog at hand.

    Args:
        pipelines: ``{name: PipelineML}``.
        catalog: The project's ``DataCatalog``.
        project_root: The project root.
        package_name: The project's Python package, shipped with the model.
        tracking_uri: Where to log; else ``MLFLOW_TRACKING_URI``; else MLflow's default.
        experiment: The experiment name (created when missing); else MLflow's default.
        registered_model_name: Register the model under this name (one pair only).

    Returns:
        One entry per logged pair.

    Raises:
        MlflowNotInstalledError: When MLflow is not installed.
        PublishError: When logging fails; nothing is then left in the tracking store.
    """
    require_mlflow("logging a model")
    return publish(
        [Pair.of(name, pipeline) for name, pipeline in pipelines.items()],
        catalog=catalog,
        project_root=Path(project_root),
        package_name=package_name,
        tracking_uri=tracking_uri,
        experiment=experiment,
        registered_model_name=registered_model_name,
    )


def project_catalog(
    project_root: str | Path, env: str | None = None, conf_source: str | None = None
) -> tuple[str, Any]:
    """The project's real ``DataCatalog``, built with no hook registered.

    Args:
        project_root: The project root.
        env: The configuration environment.
        conf_source: Another configuration folder than ``conf/``.

    Returns:
        ``(package name, catalog)``.

    Raises:
        PublishError: When the catalog cannot be built.
    """
    from kedro.framework import project as kedro_project
    from kedro.framework.startup import bootstrap_project

    root = Path(project_root).resolve()
    try:
        with warnings.catch_warnings():  # Kedro's own deprecation notes (omegaconf resolvers)
            warnings.simplefilter("ignore")
            if kedro_project.PACKAGE_NAME is None or not _project_of_package(root):
                bootstrap_project(root)
            package_name = str(kedro_project.PACKAGE_NAME)
            settings = kedro_project.settings
            source = Path(conf_source).expanduser() if conf_source else root / settings.CONF_SOURCE
            config_loader = settings.CONFIG_LOADER_CLASS(
                conf_source=str(source.resolve()), env=env, **settings.CONFIG_LOADER_ARGS
            )
            catalog = catalog_from_config_loader(config_loader, root, package_name, env=env)
    except Exception as exc:
        raise PublishError(f"the project's catalog could not be built: {exc}") from exc
    return package_name, catalog


def catalog_from_config_loader(
    config_loader: Any, project_root: Path, package_name: str, env: str | None = None
) -> Any:
    """Build the catalog the project's context class builds, with an empty hook manager."""
    from kedro.framework.hooks.manager import _create_hook_manager
    from kedro.framework.project import settings

    context = settings.CONTEXT_CLASS(
        package_name=package_name,
        project_path=project_root,
        config_loader=config_loader,
        env=env,
        hook_manager=_create_hook_manager(),
    )
    return context.catalog


def _project_of_package(root: Path) -> bool:
    """Whether the configured Kedro project is the one at ``root``."""
    from kedro.framework.project import PACKAGE_NAME

    try:
        module = importlib.import_module(str(PACKAGE_NAME))
    except ImportError:
        return False
    location = getattr(module, "__file__", None)
    return location is not None and root in Path(location).resolve().parents


# --------------------------------------------------------------------------- the transaction


@dataclass
class _Prepared:
    pair: Pair
    model: KedroPipelineModel
    artifacts: dict[str, str]
    log_kwargs: dict[str, Any]
    registered_model_name: str | None


def publish(
    pairs: Sequence[Pair],
    *,
    catalog: Any,
    project_root: Path,
    package_name: str,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    registered_model_name: str | None = None,
) -> list[PublishedModel]:
    """Log ``pairs``, all or nothing (see the module's docstring).

    Args:
        pairs: The pairs to log.
        catalog: The project's ``DataCatalog``.
        project_root: The project root (its requirements are read there).
        package_name: The project's Python package, shipped in ``code_paths``.
        tracking_uri: Where to log; else ``MLFLOW_TRACKING_URI``; else MLflow's default.
        experiment: The experiment name (created when missing); else MLflow's default.
        registered_model_name: Register the model under this name (one pair only).

    Returns:
        One entry per pair.

    Raises:
        PublishError: When anything fails; nothing is then left in the tracking store.
    """
    if registered_model_name and len(pairs) > 1:
        raise PublishError(
            f"`--registered-model-name {registered_model_name}` names one model but "
            f"{len(pairs)} pairs would be logged "
            f"({', '.join(f'`{p.name}`' for p in pairs)}); choose one with `--pipeline`"
        )
    with tempfile.TemporaryDirectory(prefix="kedro-ml-lint-") as workdir:
        work = Path(workdir)
        what = "the model's code and requirements"
        try:
            code_paths = _stage_code(work / "code", project_root, package_name)
            requirements = pip_requirements(project_root)
            prepared = []
            for index, pair in enumerate(pairs):
                what = f"the model of `{pair.name}`"
                with _quiet_kedro():
                    prepared.append(
                        _prepare(
                            pair,
                            catalog,
                            work / f"pair{index}",
                            code_paths,
                            requirements,
                            registered_model_name,
                        )
                    )
        except PublishError:
            raise
        except Exception as exc:
            raise PublishError(
                f"cannot build {what}: {type(exc).__name__}: {exc}; nothing was logged"
            ) from exc
        return _log_all(prepared, project_root, tracking_uri, experiment)


def _prepare(
    pair: Pair,
    catalog: Any,
    work: Path,
    code_paths: list[str],
    requirements: list[str],
    registered_model_name: str | None,
) -> _Prepared:
    from kedro_ml_lint.mlflow.kedro_pipeline_model import (
        DEFAULT_RUNNER,
        RUNNER_PARAM,
        KedroPipelineModel,
    )

    kpm_kwargs = dict(pair.kpm_kwargs)
    model = KedroPipelineModel(
        pipeline=pair.inference, catalog=catalog, input_name=pair.input_name, **kpm_kwargs
    )
    artifacts = model.extract_pipeline_artifacts(work / "parameters")
    sample = _load_input(catalog, pair.input_name)
    output = _smoke_test(model, artifacts, sample)

    kwargs = {k: v for k, v in pair.log_model_kwargs.items() if k not in _OWN_KWARGS}
    name = kwargs.pop("name", None) or kwargs.pop("artifact_path", None) or DEFAULT_MODEL_NAME
    kwargs.pop("artifact_path", None)
    signature = kwargs.pop("signature", "auto")
    if isinstance(signature, str) and signature == "auto":
        runner = model.runner
        parameters = {
            **model.parameters(),
            RUNNER_PARAM: DEFAULT_RUNNER if runner is None else type(runner).__name__,
        }
        signature = _infer_signature(sample, output, parameters)
    elif isinstance(signature, str):
        raise PublishError(f"`signature` in log_model_kwargs is `{signature}`; use 'auto'")
    kwargs["code_paths"] = code_paths + list(kwargs.get("code_paths") or [])
    if not ("pip_requirements" in kwargs or "conda_env" in kwargs):
        extra = _requirement_list(kwargs.pop("extra_pip_requirements", None))
        kwargs["pip_requirements"] = requirements + [r for r in extra if r not in requirements]
    registered = registered_model_name or kwargs.pop("registered_model_name", None)
    kwargs.pop("registered_model_name", None)
    return _Prepared(
        pair=pair,
        model=model,
        artifacts=artifacts,
        log_kwargs={"name": name, "signature": signature, **kwargs},
        registered_model_name=registered,
    )


def _requirement_list(value: Any) -> list[str]:
    """MLflow's ``*_pip_requirements``: a list of strings, or the path of a file of them."""
    if value is None:
        return []
    if isinstance(value, (str, Path)):
        lines = Path(value).read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip() and not line.startswith("#")]
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


@dataclass
class _Records:
    """What this call created in the tracking store, to remove on failure."""

    experiment_id: str | None = None
    experiment_created: bool = False
    runs: list[str] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)
    registered_models_created: list[str] = field(default_factory=list)


def _log_all(
    prepared: list[_Prepared],
    project_root: Path,
    tracking_uri: str | None,
    experiment: str | None,
) -> list[PublishedModel]:
    import mlflow
    from mlflow import MlflowClient

    uri = tracking_uri or os.environ.get(TRACKING_URI_ENV) or None
    _check_reachable(uri)
    records = _Records()
    published: list[PublishedModel] = []
    with _tracking_uri(uri), _quiet_kedro():
        client = MlflowClient()
        _replay_pending(mlflow, client, uri)
        try:
            records.experiment_id = _experiment_id(client, experiment, records)
            for item in prepared:
                published.append(_log_one(mlflow, client, item, project_root, records))
        except BaseException as exc:  # Ctrl-C too: never leave a half-logged model
            problems = _roll_back(mlflow, client, records)
            if problems:
                _remember_pending(uri, records)
            if not isinstance(exc, Exception) or (isinstance(exc, PublishError) and not problems):
                raise
            detail = one_line(
                str(exc) if isinstance(exc, PublishError) else f"{type(exc).__name__}: {exc}",
                300,
            )
            note = (
                "nothing was kept in the tracking store"
                if not problems
                else "cleaning up failed too ("
                + "; ".join(problems)
                + "); the next `--log` to this tracking store removes "
                + ", ".join(f"run {run_id}" for run_id in records.runs)
                + " and what it logged"
            )
            raise PublishError(
                one_line(f"logging the model failed ({detail}); {note}", 2000)
            ) from exc
    return published


def one_line(text: str, limit: int = 600) -> str:
    """``text`` on one line (MLflow's messages span several), cut at ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _check_reachable(uri: str | None) -> None:
    """Fail in seconds, not after MLflow's minutes of retries, when a server is not there."""
    if not uri or not uri.lower().startswith(("http://", "https://")):
        return
    import urllib.error
    import urllib.request

    from kedro_ml_lint.model.names import redact_url_credentials

    try:
        urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=REACHABLE_TIMEOUT).close()
    except urllib.error.HTTPError:
        return  # it answered: whatever the status, the server is there
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PublishError(
            f"the tracking server at `{redact_url_credentials(uri)}` is unreachable "
            f"({reason}); nothing was logged"
        ) from exc


def _pending_file(uri: str | None) -> Path:
    """Where roll-backs that could not finish are remembered, one file per tracking store."""
    import hashlib

    cache = os.environ.get(CACHE_DIR_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kedro-ml-lint"
    )
    key = hashlib.sha256((uri or "<default>").encode()).hexdigest()[:16]
    return Path(cache) / "pending-rollbacks" / f"{key}.json"


def _remember_pending(uri: str | None, records: _Records) -> None:
    """Keep what a roll-back could not remove (the server died?) for the next ``--log``."""
    import json

    path = _pending_file(uri)
    with suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        pending = json.loads(path.read_text()) if path.exists() else []
        pending.append(dataclasses.asdict(records))
        path.write_text(json.dumps(pending))


def _replay_pending(mlflow: Any, client: Any, uri: str | None) -> None:
    """Finish the roll-backs an earlier failed attempt on this store could not."""
    import json

    path = _pending_file(uri)
    try:
        pending = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    left = []
    for entry in pending:
        records = _Records(**{**entry, "versions": [tuple(v) for v in entry["versions"]]})
        problems = _roll_back(mlflow, client, records)
        if problems:
            logger.warning(
                "kedro-ml-lint: an earlier failed log is still not cleaned up: %s",
                one_line("; ".join(problems)),
            )
            left.append(entry)
    with suppress(OSError):
        if left:
            path.write_text(json.dumps(left))
        else:
            path.unlink()


def _experiment_id(client: Any, experiment: str | None, records: _Records) -> str:
    """The experiment to log to, resolved in *this* store, created when named and missing.

    ``experiment``, else ``MLFLOW_EXPERIMENT_NAME`` / ``MLFLOW_EXPERIMENT_ID``, else
    MLflow's ``Default`` experiment. The process's active experiment is deliberately not
    used: another plugin (kedro-mlflow's hook) may have set one in another store.
    """
    from mlflow.exceptions import MlflowException

    name = experiment or os.environ.get(EXPERIMENT_NAME_ENV)
    if not name and os.environ.get(EXPERIMENT_ID_ENV):
        # MLflow's ``set_experiment`` exports this for child processes: it may name an
        # experiment of another store (kedro-mlflow's, when the tracking URI differs).
        experiment_id = os.environ[EXPERIMENT_ID_ENV]
        try:
            found = client.get_experiment(experiment_id)
        except MlflowException:
            found = None
        if found is not None and found.lifecycle_stage == "active":
            return str(found.experiment_id)
        logger.warning(
            "%s=%s is no active experiment of this tracking store; logging to `%s`",
            EXPERIMENT_ID_ENV,
            experiment_id,
            DEFAULT_EXPERIMENT,
        )
    found = client.get_experiment_by_name(name or DEFAULT_EXPERIMENT)
    if found is None:
        if not name:
            return DEFAULT_EXPERIMENT_ID
        records.experiment_created = True
        records.experiment_id = client.create_experiment(name)
        return str(records.experiment_id)
    if found.lifecycle_stage != "active":
        raise PublishError(f"experiment `{found.name}` is deleted; restore it or pick another")
    return str(found.experiment_id)


def _log_one(
    mlflow: Any, client: Any, item: _Prepared, project_root: Path, records: _Records
) -> PublishedModel:
    # Our own run, always: nested under an active run (kedro-mlflow's training run, the
    # caller's), never resuming one named by MLFLOW_RUN_ID — a failure deletes our run.
    active = mlflow.active_run()
    with _env_unset(RUN_ID_ENV):
        run = mlflow.start_run(
            experiment_id=records.experiment_id,
            run_name=f"kedro-ml-lint {item.pair.name}",
            nested=active is not None,
            tags={RUN_TAG_PIPELINE: item.pair.name, RUN_TAG_PROJECT: str(project_root)},
        )
    run_id = run.info.run_id
    records.runs.append(run_id)
    if active is not None and not _run_exists(client, active.info.run_id):
        client.delete_tag(run_id, PARENT_RUN_TAG)  # the active run lives in another store
    info = mlflow.pyfunc.log_model(
        python_model=item.model, artifacts=item.artifacts, **item.log_kwargs
    )
    version = None
    name = item.registered_model_name
    if name:
        if not _registered_model_exists(client, name):
            records.registered_models_created.append(name)  # register_model creates it
        registered = mlflow.register_model(info.model_uri, name)
        version = str(registered.version)
        records.versions.append((name, version))
    # On failure the roll-back closes the run FAILED instead: it is never left RUNNING.
    mlflow.end_run()
    return PublishedModel(
        pipeline=item.pair.name,
        model_uri=info.model_uri,
        run_id=run_id,
        model_id=info.model_id,
        registered_model=name if version else None,
        registered_version=version,
    )


def _run_exists(client: Any, run_id: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        client.get_run(run_id)
    except MlflowException:
        return False
    return True


@contextmanager
def _env_unset(name: str) -> Iterator[None]:
    previous = os.environ.pop(name, None)
    try:
        yield
    finally:
        if previous is not None:
            os.environ[name] = previous


def _registered_model_exists(client: Any, name: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        return False
    return True


def _roll_back(mlflow: Any, client: Any, records: _Records) -> list[str]:
    """Remove every record this call made; return what could not be removed.

    Once a request finds the server gone, no other is sent: each would only wait out
    MLflow's retries and fail the same way.
    """
    problems: list[str] = []

    def server_gone() -> bool:
        return bool(problems) and _unreachable(problems[-1])

    def attempt(what: str, action: Any, *args: Any) -> None:
        if server_gone():
            return
        try:
            action(*args)
        except Exception as exc:
            problems.append(one_line(f"{what}: {type(exc).__name__}: {exc}", 300))

    active = mlflow.active_run()
    while active is not None and active.info.run_id in records.runs:
        attempt("ending the run", mlflow.end_run, "FAILED")
        active = mlflow.active_run()
        if server_gone():
            break
    for name, version in records.versions:
        attempt(f"deleting `{name}` v{version}", client.delete_model_version, name, version)
    for name in records.registered_models_created:
        if not server_gone() and _registered_model_exists(client, name):
            attempt(f"deleting registered model `{name}`", client.delete_registered_model, name)
    for run_id in records.runs:
        if server_gone():
            break
        for model in _models_of_run(client, records.experiment_id, run_id, problems):
            attempt(f"deleting the artifacts of {model.model_id}", _delete_artifacts, model)
            attempt(f"deleting {model.model_id}", client.delete_logged_model, model.model_id)
        attempt(f"marking run {run_id} FAILED", client.set_terminated, run_id, "FAILED")
        attempt(f"deleting run {run_id}", client.delete_run, run_id)
    if records.experiment_created and records.experiment_id is not None:
        attempt("deleting the experiment", client.delete_experiment, records.experiment_id)
    return problems


def _unreachable(problem: str) -> bool:
    return any(sign in problem for sign in CONNECTION_ERRORS)


def _models_of_run(
    client: Any, experiment_id: str | None, run_id: str, problems: list[str]
) -> list[Any]:
    if experiment_id is None:
        return []
    try:
        return list(
            client.search_logged_models(
                experiment_ids=[experiment_id], filter_string=f"source_run_id = '{run_id}'"
            )
        )
    except Exception as exc:
        problems.append(one_line(f"finding the models of run {run_id}: {exc}", 300))
        return []


def _delete_artifacts(model: Any) -> None:
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    location = getattr(model, "artifact_location", None)
    if location:
        with suppress(FileNotFoundError):
            get_artifact_repository(location).delete_artifacts()


@contextmanager
def _tracking_uri(uri: str | None) -> Iterator[None]:
    """Use ``uri`` while logging, then restore the process's tracking URI."""
    if uri is None:
        yield
        return
    from mlflow.tracking._tracking_service import utils

    use = getattr(utils, "_use_tracking_uri", None)
    if use is None:  # older MLflow
        import mlflow

        mlflow.set_tracking_uri(uri)
        yield
        return
    with use(uri):
        yield


@contextmanager
def _quiet_kedro() -> Iterator[None]:
    """Keep Kedro's and MLflow's chatter out of the output while logging.

    Kedro's INFO records (catalog loads, parameter validation), MLflow's notes (database
    migrations, the cloudpickle caution, "add an input example" hints) and library
    warnings say nothing the user can act on here. Errors still show; with the
    ``kedro_ml_lint`` logger at DEBUG nothing is hidden.
    """
    if logger.isEnabledFor(logging.DEBUG):
        yield
        return
    levels = {"kedro": logging.WARNING, "mlflow": logging.ERROR, "alembic": logging.WARNING}
    previous = {}
    for name, level in levels.items():
        named = logging.getLogger(name)
        previous[name] = named.level
        if named.getEffectiveLevel() < level:
            named.setLevel(level)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


# --------------------------------------------------------------------------- code and requirements


def _stage_code(target: Path, project_root: Path, package_name: str) -> list[str]:
    """Clean copies of the project's package and of kedro-ml-lint, for ``code_paths``.

    The project's package is where the pickled node functions are imported from; ours is
    where ``KedroPipelineModel`` is. Shipping both makes the model run in any environment
    that has its pip requirements, from any folder.
    """
    import kedro_ml_lint

    paths = []
    for name, source in (
        (package_name, _package_dir(project_root, package_name)),
        ("kedro_ml_lint", Path(kedro_ml_lint.__file__).parent),
    ):
        if source is None:
            raise PublishError(f"cannot find the source of package `{name}` to ship with the model")
        destination = target / name
        shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        paths.append(str(destination))
    return paths


def _package_dir(project_root: Path, package_name: str) -> Path | None:
    """The project's package folder: ``<root>/<source_dir>/<package>``, else where it imports."""
    from kedro_ml_lint.loader.pyproject import read_pyproject

    with suppress(Exception):
        kedro_table = read_pyproject(project_root).get("tool", {}).get("kedro", {})
        candidate = project_root / kedro_table.get("source_dir", "src") / package_name
        if (candidate / "__init__.py").is_file():
            return candidate
    try:
        module_file = getattr(importlib.import_module(package_name), "__file__", None)
    except ImportError:
        return None
    return Path(module_file).parent if module_file else None


def pip_requirements(project_root: str | Path) -> list[str]:
    """The served model's pip requirements.

    ``kedro``, ``kedro-datasets`` and ``cloudpickle`` pinned to the installed versions,
    then the project's own requirements (``requirements.txt``, ``src/requirements.txt``,
    else ``[project].dependencies`` of ``pyproject.toml``): unversioned ones are pinned to
    the installed version, versioned ones are kept as written, ``kedro-ml-lint`` is left
    out (its code ships with the model). MLflow adds itself.

    Args:
        project_root: The project root.

    Returns:
        Requirement strings, each distribution once.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    root = Path(project_root)
    lines = _project_requirement_lines(root)
    parsed: dict[str, Requirement] = {}
    verbatim: list[str] = []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            verbatim.append(line)
            continue
        key = canonicalize_name(requirement.name)
        if key in _OWN_DISTRIBUTIONS:
            continue
        if key in parsed:
            parsed[key].extras |= requirement.extras
        else:
            parsed[key] = requirement
    result: list[str] = []
    for name in _PINNED:
        key = canonicalize_name(name)
        requirement = parsed.pop(key) if key in parsed else Requirement(name)
        installed = _installed_version(name)
        if installed is None:
            if key in ("kedro",):  # we run inside kedro
                raise PublishError("kedro is not installed")
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        result.append(f"{requirement.name}{extras}=={installed}")
    for requirement in parsed.values():
        installed = _installed_version(requirement.name)
        if not requirement.specifier and not requirement.url and installed is not None:
            requirement.specifier &= f"=={installed}"
        result.append(str(requirement))
    return result + verbatim


def _project_requirement_lines(root: Path) -> list[str]:
    for candidate in (root / "requirements.txt", root / "src" / "requirements.txt"):
        if candidate.is_file():
            lines = []
            for raw in candidate.read_text(encoding="utf-8").splitlines():
                line = raw.split(" #", 1)[0].strip()
                if line and not line.startswith(("#", "-")):
                    lines.append(line)
            return lines
    from kedro_ml_lint.loader.pyproject import read_pyproject

    try:
        dependencies = read_pyproject(root).get("project", {}).get("dependencies", [])
    except Exception:
        return []
    return [str(d) for d in dependencies if isinstance(d, str)]


def _installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
