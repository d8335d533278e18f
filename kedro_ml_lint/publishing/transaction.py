"""The store transaction: log every prepared model, or leave nothing behind.

Each pair is logged in a run of its own; a version is registered only after its model is
logged. Everything this call creates carries the tag ``kedro_ml_lint.transaction`` (a fresh
id) from its creation on (:mod:`~kedro_ml_lint.publishing.records`), so a roll-back finds it
even when MLflow was interrupted before it returned an id. If anything fails — an
exception, SIGINT, SIGTERM (:mod:`~kedro_ml_lint.publishing.signals`) — every record made so
far is removed (:mod:`~kedro_ml_lint.publishing.rollback`); then the signal is handed on (the
CLI exits 130/143). A journal naming the transaction (:mod:`~kedro_ml_lint.publishing.journal`)
is written before the first store call and removed once the call committed or rolled back:
what a roll-back could not remove (the server died, the process was killed) is removed by
the next attempt on that store (docs/design.md §6).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.errors import Interrupted
from kedro_ml_lint.progress import NO_PROGRESS, Progress
from kedro_ml_lint.publishing.alias import AliasMove, AliasRequest, move_alias
from kedro_ml_lint.publishing.errors import NOTHING_KEPT, PublishError, one_line
from kedro_ml_lint.publishing.experiment import DEFAULT_EXPERIMENT, resolve_experiment
from kedro_ml_lint.publishing.journal import Journal, abandoned
from kedro_ml_lint.publishing.output import redacted_output
from kedro_ml_lint.publishing.quiet import quiet_kedro
from kedro_ml_lint.publishing.records import Records, tags
from kedro_ml_lint.publishing.rollback import roll_back
from kedro_ml_lint.publishing.signals import signal_of, signals_deferred, signals_raise
from kedro_ml_lint.publishing.store import (
    TRACKING_URI_ENV,
    check_reachable,
    open_client,
    redacted,
    using_tracking_uri,
)

if TYPE_CHECKING:
    from kedro_ml_lint.publishing.prepare import Prepared

logger = logging.getLogger(__name__)

RUN_ID_ENV = "MLFLOW_RUN_ID"
PARENT_RUN_TAG = "mlflow.parentRunId"


@dataclass(frozen=True)
class PublishedModel:
    """A model that was logged.

    Attributes:
        pair: The name of the pair (registry key of the ``PipelineML``).
        model_uri: ``models:/<model id>``, for ``mlflow models serve -m``.
        run_id: The MLflow run that logged it.
        model_id: MLflow's id of the logged model.
        registered_model: The registered model's name, when one was registered.
        registered_version: The registered model version, when one was registered.
        tracking_uri: The tracking URI it was logged to, as MLflow resolved it (it may hold
            credentials: redact before printing).
        experiment_id: The experiment of its run.
        experiment_name: That experiment's name.
        alias: The alias moved to the registered version (``--alias``), if any.
        verified_env: The environment manager (``"uv"``…) whose new environment, built from
            the model's requirements alone, predicted its input example (``--verify-env``).
    """

    pair: str
    model_uri: str
    run_id: str
    model_id: str
    registered_model: str | None = None
    registered_version: str | None = None
    tracking_uri: str | None = None
    experiment_id: str | None = None
    experiment_name: str | None = None
    alias: AliasMove | None = None
    verified_env: str | None = None


def log_all(
    prepared: list[Prepared],
    tracking_uri: str | None,
    experiment: str | None,
    progress: Progress = NO_PROGRESS,
    alias: AliasRequest | None = None,
    verify: Callable[[Prepared, Any], None] | None = None,
) -> list[PublishedModel]:
    """Log every prepared model, each in its own run, all or nothing.

    With ``alias``, the alias is moved to each registered version inside the transaction
    (:mod:`~kedro_ml_lint.publishing.alias`; a roll-back puts it back).
    ``verify(prepared, model_info)``, when given, runs after each model is logged and before
    it is registered: raising there rolls everything back (``--verify-env``).

    Raises:
        PublishError: When logging failed; what was created is removed (or, when the store
            cannot be reached, removed by the next attempt on that store).
        GateRefused: The gate found a breaking difference; what was created is removed.
        Interrupted: SIGINT or SIGTERM arrived, after the roll-back (when the signal's
            previous handler is not Python's own: :mod:`~kedro_ml_lint.publishing.signals`).
    """
    import mlflow

    uri = tracking_uri or os.environ.get(TRACKING_URI_ENV) or None
    check_reachable(uri)
    records = Records(transaction=uuid.uuid4().hex)
    published: list[PublishedModel] = []
    experiment_name = DEFAULT_EXPERIMENT
    # Everything MLflow and Kedro print meanwhile (the run's link…) is redacted.
    with using_tracking_uri(uri), quiet_kedro(), redacted_output():
        resolved_uri = mlflow.get_tracking_uri()  # where MLflow's default put it, for the summary
        try:
            # A fresh sqlite store creates its tables here: seconds.
            with progress.step(f"opening the tracking store `{redacted(resolved_uri)}`"):
                client = open_client(uri)
                _replay_pending(mlflow, client, uri)
        except Interrupted as exc:  # the CLI's handler, before this call created anything
            exc.note = exc.note or "nothing was logged"
            raise
        with signals_raise() as signals:
            journal = Journal(uri, records)
            try:
                journal.open()  # before the first store call: a SIGKILL leaves it behind
                records.experiment_id, experiment_name = resolve_experiment(
                    client, experiment, records
                )
                journal.write()
                for item in prepared:
                    published.append(
                        _log_one(mlflow, client, item, records, journal, progress, alias, verify)
                    )
                signals.committed = True  # a signal from here on waits for the end
                journal.close()  # the commit point: from here on, nothing is rolled back
            except BaseException as exc:  # signals too: never leave a half-logged model
                with signals_deferred(signals):
                    problems = roll_back(mlflow, client, records)
                    if problems:
                        journal.write()  # for the next attempt on this store,
                        journal.release()  # which may be this process's next one
                    else:
                        journal.close()
                note = (
                    NOTHING_KEPT
                    if not problems
                    else "cleaning up failed too ("
                    + "; ".join(problems)
                    + "); the next `--log` to this tracking store removes "
                    + (
                        ", ".join(f"run {run_id}" for run_id in records.runs)
                        or f"transaction {records.transaction}"
                    )
                    + " and what it logged"
                )
                signum = signal_of(exc)
                if signum is None and signals.received:  # one came during the roll-back
                    signum = signals.received[0]
                if signum is not None:
                    signals.received.insert(0, signum)
                    signals.note = one_line(note, 2000)
                    raise Interrupted(signum, signals.note) from None
                if not isinstance(exc, Exception) or (
                    isinstance(exc, PublishError) and not problems
                ):
                    raise
                detail = one_line(
                    redacted(
                        str(exc)
                        if isinstance(exc, PublishError)
                        else f"{type(exc).__name__}: {exc}"
                    ),
                    300,
                )
                raise PublishError(
                    one_line(f"logging the model failed ({detail}); {note}", 2000)
                ) from exc
    return [
        dataclasses.replace(
            model,
            tracking_uri=resolved_uri,
            experiment_id=records.experiment_id,
            experiment_name=experiment_name,
        )
        for model in published
    ]


def _replay_pending(mlflow: Any, client: Any, uri: str | None) -> None:
    """Finish the roll-backs of earlier attempts on this store whose process is gone."""
    with closing(abandoned(uri)) as journals:  # a signal here releases the lock held now
        for records, forget in journals:
            problems = roll_back(mlflow, client, records)
            if problems:
                logger.warning(
                    "kedro-ml-lint: an earlier failed log is still not cleaned up: %s",
                    one_line("; ".join(problems)),
                )
                continue
            forget()


def _log_one(
    mlflow: Any,
    client: Any,
    item: Prepared,
    records: Records,
    journal: Journal,
    progress: Progress = NO_PROGRESS,
    alias: AliasRequest | None = None,
    verify: Callable[[Prepared, Any], None] | None = None,
) -> PublishedModel:
    # Our own run, always: nested under an active run (kedro-mlflow's training run, the
    # caller's), never resuming one named by MLFLOW_RUN_ID — a failure deletes our run.
    # Every record carries the transaction tag from its creation (start_run passes the tags
    # to create_run): a roll-back finds it even when MLflow is interrupted before returning.
    active = mlflow.active_run()
    with _env_unset(RUN_ID_ENV):
        run = mlflow.start_run(
            experiment_id=records.experiment_id,
            run_name=item.run_name,
            nested=active is not None,
            tags={**item.tags, **tags(records)},
        )
    run_id = run.info.run_id
    records.runs.append(run_id)
    journal.write()
    if active is not None and not _run_exists(client, active.info.run_id):
        client.delete_tag(run_id, PARENT_RUN_TAG)  # the active run lives in another store
    if item.params:
        mlflow.log_params(item.params)
    log_kwargs = dict(item.log_kwargs)
    log_kwargs["tags"] = {**dict(log_kwargs.get("tags") or {}), **tags(records)}
    with progress.step(f"logging the model of `{item.pair.name}` (uploading its artifacts)"):
        info = mlflow.pyfunc.log_model(
            python_model=item.model, artifacts=item.artifacts, **log_kwargs
        )
    if verify is not None:  # proven before it is kept: a failure rolls the log back
        verify(item, info)
    version = None
    name = item.registered_model_name
    if name:
        if not _registered_model_exists(client, name):
            records.registered_models_created.append(name)
            journal.write()
            _create_registered_model(client, name, records)
        with progress.step(f"registering the model of `{item.pair.name}` as `{name}`"):
            registered = mlflow.register_model(info.model_uri, name, tags=tags(records))
        version = str(registered.version)
        records.versions.append((name, version))
        journal.write()
    moved = None
    if alias is not None and name and version:
        moved = move_alias(mlflow, client, name, version, alias, records, journal, progress)
    # On failure the roll-back closes the run FAILED instead: it is never left RUNNING.
    mlflow.end_run()
    return PublishedModel(
        pair=item.pair.name,
        model_uri=info.model_uri,
        run_id=run_id,
        model_id=info.model_id,
        registered_model=name if version else None,
        registered_version=version,
        alias=moved,
    )


def _create_registered_model(client: Any, name: str, records: Records) -> None:
    """Create it with the transaction tag (``register_model`` would, untagged)."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, tags=tags(records))
    except MlflowException as exc:
        if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
            raise
        records.registered_models_created.remove(name)  # another process was first


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
