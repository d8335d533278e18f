"""Which experiment ``--log`` logs to, resolved in the tracking store it logs to."""

from __future__ import annotations

import logging
import os
from typing import Any

from kedro_ml_lint.publishing.errors import PublishError
from kedro_ml_lint.publishing.records import Records, tags

logger = logging.getLogger(__name__)

EXPERIMENT_NAME_ENV = "MLFLOW_EXPERIMENT_NAME"
EXPERIMENT_ID_ENV = "MLFLOW_EXPERIMENT_ID"
DEFAULT_EXPERIMENT = "Default"
DEFAULT_EXPERIMENT_ID = "0"


def resolve_experiment(client: Any, experiment: str | None, records: Records) -> tuple[str, str]:
    """The experiment to log to (id, name), resolved in *this* store; created when named, missing.

    ``experiment``, else ``MLFLOW_EXPERIMENT_NAME`` / ``MLFLOW_EXPERIMENT_ID``, else
    MLflow's ``Default`` experiment. The process's active experiment is deliberately not
    used: another plugin (kedro-mlflow's hook) may have set one in another store. An
    experiment created here is tagged and noted in ``records``.

    Raises:
        PublishError: When the named experiment is deleted.
    """
    from mlflow.exceptions import MlflowException

    name = experiment or os.environ.get(EXPERIMENT_NAME_ENV)
    if not name and os.environ.get(EXPERIMENT_ID_ENV):
        # MLflow's ``set_experiment`` exports this for child processes: it may name an
        # experiment of another store (kedro-mlflow's, when the tracking URI differs).
        wanted = os.environ[EXPERIMENT_ID_ENV]
        try:
            found = client.get_experiment(wanted)
        except MlflowException:
            found = None
        if found is not None and found.lifecycle_stage == "active":
            return str(found.experiment_id), str(found.name)
        logger.warning(
            "%s=%s is no active experiment of this tracking store; logging to `%s`",
            EXPERIMENT_ID_ENV,
            wanted,
            DEFAULT_EXPERIMENT,
        )
    found = client.get_experiment_by_name(name or DEFAULT_EXPERIMENT)
    if found is None:
        if not name:
            return DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT
        records.experiment_created = True
        records.experiment_id = client.create_experiment(name, tags=tags(records))
        return str(records.experiment_id), name
    if found.lifecycle_stage != "active":
        raise PublishError(f"experiment `{found.name}` is deleted; restore it or pick another")
    return str(found.experiment_id), str(found.name)
