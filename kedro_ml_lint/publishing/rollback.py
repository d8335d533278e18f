"""Roll a ``--log`` transaction back: remove what it created, found by id and by search.

What to remove is the ids MLflow returned **and** whatever carries the transaction's tag
(found by searching: a call interrupted inside MLflow returned no id); an alias the
transaction moved is put back where it was first. Removing what is
already gone is no problem, so a roll-back can be replayed (docs/design.md §6).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from kedro_ml_lint.publishing.alias import holder_of
from kedro_ml_lint.publishing.errors import one_line
from kedro_ml_lint.publishing.records import Records, tag_filter
from kedro_ml_lint.seams.mlflow_private import artifact_repository, connection_failed


def roll_back(mlflow: Any, client: Any, records: Records) -> list[str]:
    """Remove every record the transaction made; return what could not be removed.

    Once a request finds the store unreachable (:func:`~kedro_ml_lint.seams.mlflow_private.
    connection_failed`), no other is sent: each would only wait out MLflow's retries and
    fail the same way.

    Args:
        mlflow: The ``mlflow`` module (its active run is ended ``FAILED``).
        client: An ``MlflowClient`` of the store.
        records: What the transaction created, as far as it knows.

    Returns:
        One line per record that could not be removed (empty: nothing is left).
    """
    from mlflow.entities import ViewType

    problems: list[str] = []
    gone = False  # a request found the store unreachable: send no other

    def server_gone() -> bool:
        return gone

    def attempt(what: str, action: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal gone
        if gone:
            return None
        try:
            return action(*args, **kwargs)
        except Exception as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return None  # removed already (an earlier roll-back of this transaction)
            problems.append(one_line(f"{what}: {type(exc).__name__}: {exc}", 300))
            gone = connection_failed(exc)
            return None

    tag = tag_filter(records)
    experiments = [records.experiment_id] if records.experiment_id is not None else []
    created_experiments = (
        [records.experiment_id] if records.experiment_created and experiments else []
    )
    if tag:
        for found in (
            attempt(
                "finding this call's experiments",
                client.search_experiments,
                view_type=ViewType.ALL,
                filter_string=tag,
            )
            or []
        ):
            if found.experiment_id not in experiments:
                experiments.append(found.experiment_id)
            if found.experiment_id not in created_experiments:
                created_experiments.append(found.experiment_id)
    runs: dict[str, Any] = {run_id: None for run_id in records.runs}
    if tag and experiments:
        for run in (
            attempt(
                "finding this call's runs",
                client.search_runs,
                experiments,
                filter_string=tag,
                run_view_type=ViewType.ALL,
            )
            or []
        ):
            runs[run.info.run_id] = run

    active = mlflow.active_run()
    while active is not None and active.info.run_id in runs:
        attempt("ending the run", mlflow.end_run, "FAILED")
        if server_gone():
            break
        active = mlflow.active_run()

    versions = list(records.versions)
    searches = [tag] if tag else []
    searches += [f"run_id = '{run_id}'" for run_id in runs]
    for search in searches:
        for found in (
            attempt("finding this call's model versions", client.search_model_versions, search)
            or []
        ):
            if (found.name, str(found.version)) not in versions:
                versions.append((found.name, str(found.version)))
    # Before the versions go: deleting a version deletes the aliases on it.
    for name, alias, previous in reversed(records.aliases):
        attempt(
            f"putting alias `{alias}` of `{name}` back",
            _restore_alias,
            client,
            name,
            alias,
            previous,
            versions,
        )
    for name, version in versions:
        attempt(f"deleting `{name}` v{version}", client.delete_model_version, name, version)
    registered = list(records.registered_models_created)
    if tag:
        for found in (
            attempt(
                "finding this call's registered models",
                client.search_registered_models,
                filter_string=tag,
            )
            or []
        ):
            if found.name not in registered:
                registered.append(found.name)
    for name in registered:
        left = attempt(
            f"finding the versions of `{name}`", client.search_model_versions, f"name = '{name}'"
        )
        if left == [] and not server_gone():  # another process's version: keep its model
            attempt(f"deleting registered model `{name}`", client.delete_registered_model, name)

    models: dict[str, Any] = {}
    if experiments:
        filters = [tag] if tag else []
        filters += [f"source_run_id = '{run_id}'" for run_id in runs]
        for search in filters:
            for model in (
                attempt(
                    "finding this call's logged models",
                    client.search_logged_models,
                    experiment_ids=experiments,
                    filter_string=search,
                )
                or []
            ):
                models.setdefault(model.model_id, model)
    for model in models.values():
        attempt(f"deleting the artifacts of {model.model_id}", _delete_artifacts, model)
        attempt(f"deleting {model.model_id}", client.delete_logged_model, model.model_id)

    for run_id, run in runs.items():
        if server_gone():
            break
        if run is None:
            run = attempt(f"finding run {run_id}", client.get_run, run_id)
            if run is None:
                continue
        if run.info.lifecycle_stage == "deleted":
            continue
        attempt(f"marking run {run_id} FAILED", client.set_terminated, run_id, "FAILED")
        attempt(f"deleting run {run_id}", client.delete_run, run_id)
    for experiment_id in created_experiments:
        found = attempt("finding the experiment", client.get_experiment, experiment_id)
        if found is not None and found.lifecycle_stage == "active":
            # MLflow keeps a deleted experiment's name (a retry could not create it again)
            # and restoring it would restore its runs: free the name first.
            suffix = f" (rolled back {records.transaction or experiment_id})"
            if not found.name.endswith(suffix):
                attempt(
                    "renaming the experiment",
                    client.rename_experiment,
                    experiment_id,
                    found.name + suffix,
                )
            attempt("deleting the experiment", client.delete_experiment, experiment_id)
    return problems


def _delete_artifacts(model: Any) -> None:
    location = getattr(model, "artifact_location", None)
    if location:
        with suppress(FileNotFoundError):
            artifact_repository(location).delete_artifacts()


def _restore_alias(
    client: Any, name: str, alias: str, previous: str | None, ours: list[tuple[str, str]]
) -> None:
    """Point ``alias`` at ``previous`` again (or delete it), unless another process moved it.

    The alias is left alone when it still points at ``previous`` (the move never happened)
    or at a version this transaction did not register (moved by someone else since).
    """
    holder = holder_of(client, name, alias)
    if holder == previous or (holder is not None and (name, holder) not in ours):
        return
    if previous is None:
        client.delete_registered_model_alias(name, alias)
    else:
        client.set_registered_model_alias(name, alias, previous)
