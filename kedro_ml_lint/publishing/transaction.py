"""The store transaction: log every prepared model, or leave nothing behind.

Each pair is logged in a run of its own; a version is registered only after its model is
logged. Everything this call creates carries the tag ``kedro_ml_lint.transaction`` (a fresh
id) from its creation on, so a roll-back finds it even when MLflow was interrupted before it
returned an id. If anything fails — an exception, SIGINT, SIGTERM — every record made so far
is removed: registered versions (and a registered model this call created), logged models and
their artifacts, the runs (marked ``FAILED``, then deleted) and an experiment this call
created; then the signal is handed on (the CLI exits 130/143). A journal naming the
transaction is written before the first store call and removed once the call committed or
rolled back: what a roll-back could not remove (the server died, the process was killed) is
removed by the next attempt on that store (docs/design.md §6).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.errors import Interrupted
from kedro_ml_lint.publishing.errors import PublishError, one_line
from kedro_ml_lint.publishing.quiet import quiet_kedro
from kedro_ml_lint.publishing.store import (
    TRACKING_URI_ENV,
    check_reachable,
    open_client,
    redacted,
    using_tracking_uri,
)
from kedro_ml_lint.seams.mlflow_private import artifact_repository
from kedro_ml_lint.vocabulary import TAG_PREFIX

if TYPE_CHECKING:
    from kedro_ml_lint.publishing.prepare import Prepared

logger = logging.getLogger(__name__)

EXPERIMENT_NAME_ENV = "MLFLOW_EXPERIMENT_NAME"
EXPERIMENT_ID_ENV = "MLFLOW_EXPERIMENT_ID"
RUN_ID_ENV = "MLFLOW_RUN_ID"
PARENT_RUN_TAG = "mlflow.parentRunId"
DEFAULT_EXPERIMENT = "Default"
DEFAULT_EXPERIMENT_ID = "0"
CACHE_DIR_ENV = "KEDRO_ML_LINT_CACHE_DIR"
# On every run, logged model, registered model, version and experiment this call creates.
TRANSACTION_TAG = TAG_PREFIX + "transaction"
SIGNALS = (signal.SIGINT, signal.SIGTERM)
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
        pair: The name of the pair (registry key of the ``PipelineML``).
        model_uri: ``models:/<model id>``, for ``mlflow models serve -m``.
        run_id: The MLflow run that logged it.
        model_id: MLflow's id of the logged model.
        registered_model: The registered model's name, when one was registered.
        registered_version: The registered model version, when one was registered.
    """

    pair: str
    model_uri: str
    run_id: str
    model_id: str
    registered_model: str | None = None
    registered_version: str | None = None


@dataclass
class _Records:
    """What this call created in the tracking store, to remove on failure.

    ``transaction`` is the value of :data:`TRANSACTION_TAG` on everything it created; the
    ids are what MLflow returned before a failure (an interrupted call returns none).
    """

    experiment_id: str | None = None
    experiment_created: bool = False
    runs: list[str] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)
    registered_models_created: list[str] = field(default_factory=list)
    transaction: str | None = None


class _Signalled(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def log_all(
    prepared: list[Prepared],
    tracking_uri: str | None,
    experiment: str | None,
) -> list[PublishedModel]:
    """Log every prepared model, each in its own run, all or nothing.

    Raises:
        PublishError: When logging failed; what was created is removed (or, when the store
            cannot be reached, removed by the next attempt on that store).
        Interrupted: SIGINT or SIGTERM arrived, after the roll-back (when the signal's
            previous handler is not Python's own: see :func:`_hand_on`).
    """
    import mlflow

    uri = tracking_uri or os.environ.get(TRACKING_URI_ENV) or None
    check_reachable(uri)
    records = _Records(transaction=uuid.uuid4().hex)
    published: list[PublishedModel] = []
    with using_tracking_uri(uri), quiet_kedro():
        try:
            client = open_client(uri)
            _replay_pending(mlflow, client, uri)
        except Interrupted as exc:  # the CLI's handler, before this call created anything
            exc.note = exc.note or "nothing was logged"
            raise
        with _signals_raise() as signals:
            journal = _Journal(uri, records)
            try:
                journal.open()  # before the first store call: a SIGKILL leaves it behind
                records.experiment_id = _experiment_id(client, experiment, records)
                journal.write()
                for item in prepared:
                    published.append(_log_one(mlflow, client, item, records, journal))
                signals.committed = True  # a signal from here on waits for the end
                journal.close()  # the commit point: from here on, nothing is rolled back
            except BaseException as exc:  # signals too: never leave a half-logged model
                with _signals_deferred(signals):
                    problems = _roll_back(mlflow, client, records)
                    if problems:
                        journal.write()  # for the next attempt on this store
                    else:
                        journal.close()
                note = (
                    "nothing was kept in the tracking store"
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
                signum = _signal_of(exc)
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
    return published


def _signal_of(exc: BaseException) -> int | None:
    if isinstance(exc, _Signalled):
        return exc.signum
    if isinstance(exc, Interrupted):
        return exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return int(signal.SIGINT)
    return None


@dataclass
class _SignalState:
    """The handlers in place while logging, and what arrived when it could not be obeyed."""

    previous: dict[int, Any] = field(default_factory=dict)
    received: list[int] = field(default_factory=list)
    committed: bool = False
    unwinding: bool = False
    note: str = ""


@contextmanager
def _signals_raise() -> Iterator[_SignalState]:
    """While logging, SIGINT and SIGTERM raise an exception that unwinds into the roll-back.

    Only in the main thread (Python delivers signals there), and never for a signal the
    process ignores (``nohup``). Once the call committed, a signal waits for the end of the
    block; on the way out the previous handlers come back and each signal that waited is
    handed on to them (:func:`_hand_on`).
    """
    state = _SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def raise_or_wait(signum: int, frame: Any) -> None:
        if state.committed or state.unwinding:  # a second signal: the roll-back runs
            state.received.append(signum)
            return
        state.unwinding = True
        raise _Signalled(signum)

    for number in SIGNALS:
        previous = signal.getsignal(number)
        if previous is signal.SIG_IGN:
            continue
        state.previous[number] = previous
        signal.signal(number, raise_or_wait)
    try:
        yield state
    except Interrupted as exc:
        _restore(state)
        _hand_on(exc.signum, state, exc)
        raise
    finally:
        _restore(state)
    if state.received:
        _hand_on(state.received[0], state, None)


@contextmanager
def _signals_deferred(state: _SignalState) -> Iterator[None]:
    """During a roll-back, SIGINT and SIGTERM are noted, not obeyed.

    A roll-back cut short would leave exactly what it is there to remove; it is bounded
    (once the store is found gone, no further request is sent) and the journal covers a
    SIGKILL. The first signal still decides the exit code.
    """
    state.unwinding = True
    if not state.previous:
        yield
        return

    def wait(signum: int, frame: Any) -> None:
        state.received.append(signum)
        logger.warning(
            "kedro-ml-lint: removing what this `--log` created, then stopping "
            "(SIGKILL skips the clean-up; the next `--log` to this store does it)"
        )

    for number in state.previous:
        signal.signal(number, wait)
    yield


def _restore(state: _SignalState) -> None:
    for number, previous in state.previous.items():
        signal.signal(number, previous if previous is not None else signal.SIG_DFL)


def _hand_on(signum: int, state: _SignalState, exc: Interrupted | None) -> None:
    """Give a signal, once the store is clean, to the handler it would have gone to.

    Python's own ``SIGINT`` handler raises ``KeyboardInterrupt``; the default ``SIGTERM``
    action ends the process (status 143), as without kedro-ml-lint; a handler of the caller
    (the CLI's, which raises :class:`~kedro_ml_lint.errors.Interrupted`) runs. Returns only
    when no handler stopped the process or raised: the caller then raises ``exc``.
    """
    previous = state.previous.get(signum, signal.SIG_DFL)
    note = exc.note if exc is not None else "logging had finished: the models were kept"
    if previous is signal.SIG_DFL or previous is None:
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)
    elif callable(previous):
        try:
            previous(signum, None)
        except Interrupted as delivered:
            delivered.note = delivered.note or note
            raise
    if exc is None:
        raise Interrupted(signum, note)


def _cache_dir() -> Path:
    return Path(
        os.environ.get(CACHE_DIR_ENV)
        or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kedro-ml-lint"
        )
    )


def _store_key(uri: str | None) -> str:
    import hashlib

    return hashlib.sha256((uri or "<default>").encode()).hexdigest()[:16]


def _pending_file(uri: str | None) -> Path:
    """Where roll-backs that could not finish were remembered by earlier versions."""
    return _cache_dir() / "pending-rollbacks" / f"{_store_key(uri)}.json"


class _Journal:
    """The entry of one transaction among the store's pending roll-backs.

    ``<cache>/pending-rollbacks/<store>/<transaction>.json`` holds the records; it exists
    from before the first store call until the commit or a complete roll-back, so a process
    killed in between leaves it to the next attempt on the store. ``<transaction>.lock``,
    ``flock``-ed while the transaction runs, tells that attempt whether its owner is alive
    (the kernel drops the lock of a killed process). Without a writable cache folder, logging
    still works, without that protection against SIGKILL.
    """

    def __init__(self, uri: str | None, records: _Records) -> None:
        self.folder = _cache_dir() / "pending-rollbacks" / _store_key(uri)
        self.path = self.folder / f"{records.transaction}.json"
        self.lock_path = self.path.with_suffix(".lock")
        self.records = records
        self.lock_fd: int | None = None

    def open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.lock_fd = _lock(self.lock_path, blocking=True)
        except OSError as exc:
            logger.debug("kedro-ml-lint: no journal for this `--log`: %s", exc)
            return
        self.write()

    def write(self) -> None:
        if self.lock_fd is None:
            return
        temporary = self.path.with_suffix(".tmp")
        with suppress(OSError):
            temporary.write_text(json.dumps(dataclasses.asdict(self.records)))
            os.replace(temporary, self.path)

    def close(self) -> None:
        """Forget the transaction: it committed, or nothing of it is left."""
        if self.lock_fd is None:
            return
        with suppress(OSError):
            self.path.unlink()
        with suppress(OSError):
            self.lock_path.unlink()
        os.close(self.lock_fd)
        self.lock_fd = None


def _lock(path: Path, *, blocking: bool) -> int | None:
    """An open, ``flock``-ed descriptor of ``path``; ``None`` when another process holds it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        import fcntl
    except ImportError:  # Windows: no lock, a journal is taken as its owner's while it runs
        return descriptor
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        os.close(descriptor)
        if blocking:
            raise
        return None
    return descriptor


def _replay_pending(mlflow: Any, client: Any, uri: str | None) -> None:
    """Finish the roll-backs of earlier attempts on this store whose process is gone."""
    _replay_legacy(mlflow, client, uri)
    folder = _cache_dir() / "pending-rollbacks" / _store_key(uri)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        lock_path = path.with_suffix(".lock")
        try:
            descriptor = _lock(lock_path, blocking=False)
        except OSError:
            continue
        if descriptor is None:
            continue  # its owner is still logging
        try:
            try:
                entry = json.loads(path.read_text())
                records = _Records(
                    **{**entry, "versions": [tuple(v) for v in entry.get("versions", [])]}
                )
            except (OSError, ValueError, TypeError):
                continue
            problems = _roll_back(mlflow, client, records)
            if problems:
                logger.warning(
                    "kedro-ml-lint: an earlier failed log is still not cleaned up: %s",
                    one_line("; ".join(problems)),
                )
                continue
            with suppress(OSError):
                path.unlink()
            with suppress(OSError):
                lock_path.unlink()
        finally:
            os.close(descriptor)


def _replay_legacy(mlflow: Any, client: Any, uri: str | None) -> None:
    """The single pending file of kedro-ml-lint before transactions had journals."""
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


def _tags(records: _Records) -> dict[str, str]:
    return {TRANSACTION_TAG: records.transaction} if records.transaction else {}


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
        records.experiment_id = client.create_experiment(name, tags=_tags(records))
        return str(records.experiment_id)
    if found.lifecycle_stage != "active":
        raise PublishError(f"experiment `{found.name}` is deleted; restore it or pick another")
    return str(found.experiment_id)


def _log_one(
    mlflow: Any, client: Any, item: Prepared, records: _Records, journal: _Journal
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
            tags={**item.tags, **_tags(records)},
        )
    run_id = run.info.run_id
    records.runs.append(run_id)
    journal.write()
    if active is not None and not _run_exists(client, active.info.run_id):
        client.delete_tag(run_id, PARENT_RUN_TAG)  # the active run lives in another store
    if item.params:
        mlflow.log_params(item.params)
    log_kwargs = dict(item.log_kwargs)
    log_kwargs["tags"] = {**dict(log_kwargs.get("tags") or {}), **_tags(records)}
    info = mlflow.pyfunc.log_model(python_model=item.model, artifacts=item.artifacts, **log_kwargs)
    version = None
    name = item.registered_model_name
    if name:
        if not _registered_model_exists(client, name):
            records.registered_models_created.append(name)
            journal.write()
            _create_registered_model(client, name, records)
        registered = mlflow.register_model(info.model_uri, name, tags=_tags(records))
        version = str(registered.version)
        records.versions.append((name, version))
        journal.write()
    # On failure the roll-back closes the run FAILED instead: it is never left RUNNING.
    mlflow.end_run()
    return PublishedModel(
        pair=item.pair.name,
        model_uri=info.model_uri,
        run_id=run_id,
        model_id=info.model_id,
        registered_model=name if version else None,
        registered_version=version,
    )


def _create_registered_model(client: Any, name: str, records: _Records) -> None:
    """Create it with the transaction tag (``register_model`` would, untagged)."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, tags=_tags(records))
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


def _roll_back(mlflow: Any, client: Any, records: _Records) -> list[str]:
    """Remove every record this call made; return what could not be removed.

    What to remove is the ids MLflow returned **and** whatever carries this transaction's
    tag (found by searching: a call interrupted inside MLflow returned no id). Removing
    what is already gone is no problem, so a roll-back can be replayed. Once a request
    finds the server gone, no other is sent: each would only wait out MLflow's retries and
    fail the same way.
    """
    from mlflow.entities import ViewType

    problems: list[str] = []

    def server_gone() -> bool:
        return bool(problems) and _unreachable(problems[-1])

    def attempt(what: str, action: Any, *args: Any, **kwargs: Any) -> Any:
        if server_gone():
            return None
        try:
            return action(*args, **kwargs)
        except Exception as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return None  # removed already (an earlier roll-back of this transaction)
            problems.append(one_line(f"{what}: {type(exc).__name__}: {exc}", 300))
            return None

    tag = _tag_filter(records)
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


def _tag_filter(records: _Records) -> str | None:
    if not records.transaction:
        return None
    return f"tags.`{TRANSACTION_TAG}` = '{records.transaction}'"


def _unreachable(problem: str) -> bool:
    return any(sign in problem for sign in CONNECTION_ERRORS)


def _delete_artifacts(model: Any) -> None:
    location = getattr(model, "artifact_location", None)
    if location:
        with suppress(FileNotFoundError):
            artifact_repository(location).delete_artifacts()
