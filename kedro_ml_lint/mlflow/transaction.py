"""The store transaction: log every prepared model, or leave nothing behind.

Each pair is logged in a run of its own; a version is registered only after its model is
logged. If anything fails (Ctrl-C included), every record made so far is removed —
registered versions (and a registered model this call created), logged models and their
artifacts, the runs (marked ``FAILED``, then deleted) and an experiment this call created.
What a roll-back cannot remove (the server died) is remembered per store and removed by
the next attempt on that store.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.mlflow.errors import PublishError, one_line
from kedro_ml_lint.mlflow.quiet import quiet_kedro
from kedro_ml_lint.mlflow.store import (
    TRACKING_URI_ENV,
    check_reachable,
    open_client,
    redacted,
    using_tracking_uri,
)

if TYPE_CHECKING:
    from kedro_ml_lint.mlflow.prepare import Prepared

logger = logging.getLogger(__name__)

EXPERIMENT_NAME_ENV = "MLFLOW_EXPERIMENT_NAME"
EXPERIMENT_ID_ENV = "MLFLOW_EXPERIMENT_ID"
RUN_ID_ENV = "MLFLOW_RUN_ID"
PARENT_RUN_TAG = "mlflow.parentRunId"
DEFAULT_EXPERIMENT = "Default"
DEFAULT_EXPERIMENT_ID = "0"
CACHE_DIR_ENV = "KEDRO_ML_LINT_CACHE_DIR"
# How a request to a tracking server that is not there fails (urllib3, requests, MLflow).
CONNECTION_ERRORS = (
    "Connection refused",
    "Connection aborted",
    "Connection reset",
    "Max retries exceeded",
    "Failed to establish a new connection",
)


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


@dataclass
class _Records:
    """What this call created in the tracking store, to remove on failure."""

    experiment_id: str | None = None
    experiment_created: bool = False
    runs: list[str] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)
    registered_models_created: list[str] = field(default_factory=list)


def log_all(
    prepared: list[Prepared],
    tracking_uri: str | None,
    experiment: str | None,
) -> list[PublishedModel]:
    """Log every prepared model, each in its own run, all or nothing."""
    import mlflow

    uri = tracking_uri or os.environ.get(TRACKING_URI_ENV) or None
    check_reachable(uri)
    records = _Records()
    published: list[PublishedModel] = []
    with using_tracking_uri(uri), quiet_kedro():
        client = open_client(uri)
        _replay_pending(mlflow, client, uri)
        try:
            records.experiment_id = _experiment_id(client, experiment, records)
            for item in prepared:
                published.append(_log_one(mlflow, client, item, records))
        except BaseException as exc:  # Ctrl-C too: never leave a half-logged model
            problems = _roll_back(mlflow, client, records)
            if problems:
                _remember_pending(uri, records)
            if not isinstance(exc, Exception) or (isinstance(exc, PublishError) and not problems):
                raise
            detail = one_line(
                redacted(
                    str(exc) if isinstance(exc, PublishError) else f"{type(exc).__name__}: {exc}"
                ),
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


def _log_one(mlflow: Any, client: Any, item: Prepared, records: _Records) -> PublishedModel:
    # Our own run, always: nested under an active run (kedro-mlflow's training run, the
    # caller's), never resuming one named by MLFLOW_RUN_ID — a failure deletes our run.
    active = mlflow.active_run()
    with _env_unset(RUN_ID_ENV):
        run = mlflow.start_run(
            experiment_id=records.experiment_id,
            run_name=item.run_name,
            nested=active is not None,
            tags=item.tags,
        )
    run_id = run.info.run_id
    records.runs.append(run_id)
    if active is not None and not _run_exists(client, active.info.run_id):
        client.delete_tag(run_id, PARENT_RUN_TAG)  # the active run lives in another store
    if item.params:
        mlflow.log_params(item.params)
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
