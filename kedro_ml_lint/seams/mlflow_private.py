"""MLflow's private and internal APIs, each reached here and nowhere else (docs/design.md §8).

MLflow does not promise to keep a name starting with ``_`` nor its ``mlflow.store``/
``mlflow.tracking._…`` internals; every one kedro-ml-lint uses is behind a function of this
module, which says what it needs it for and which MLflow versions it was checked against.
On an MLflow upgrade this is the file to revisit. It lives in ``kedro_ml_lint.publishing``, the
only importer of MLflow (``check`` never imports it), and imports MLflow only inside the
functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

CHECKED_AGAINST = "mlflow 3.17.2"


def params_schema_enforcer() -> Callable[[Any, Any], Any] | None:
    """The function MLflow's pyfunc models check request params with; ``None`` when absent.

    Private: ``mlflow.pyfunc._enforce_params_schema``. Needed to refuse unknown request
    params for a ``KedroPipelineModel`` (``kedro_ml_lint.publishing.request_params``).
    Checked against mlflow 3.17.2.
    """
    import mlflow.pyfunc as pyfunc

    return getattr(pyfunc, "_enforce_params_schema", None)


def install_params_schema_enforcer(enforce: Callable[[Any, Any], Any]) -> None:
    """Make ``enforce`` the function MLflow's pyfunc models check request params with.

    Private: ``mlflow.pyfunc._enforce_params_schema``, which ``PyFuncModel.predict`` looks up
    in its module at each call. Checked against mlflow 3.17.2.
    """
    import mlflow.pyfunc as pyfunc

    pyfunc._enforce_params_schema = enforce  # type: ignore[assignment]


def tracking_uri_scope() -> Callable[[str], Any] | None:
    """MLflow's context manager that uses a tracking URI for a block; ``None`` when absent.

    Private: ``mlflow.tracking._tracking_service.utils._use_tracking_uri``. Needed to log to
    the store ``--log`` names and then give the process its own tracking URI back
    (``kedro_ml_lint.publishing.store.using_tracking_uri``; older MLflows fall back to
    ``mlflow.set_tracking_uri``). Checked against mlflow 3.17.2.
    """
    from mlflow.tracking._tracking_service import utils

    return getattr(utils, "_use_tracking_uri", None)


def artifact_repository(location: str) -> Any:
    """The artifact repository of a run or model ``location`` (to delete its artifacts).

    Internal: ``mlflow.store.artifact.artifact_repository_registry.get_artifact_repository``
    (no leading underscore, but not in MLflow's documented API). Needed to roll a failed
    ``--log`` back (``kedro_ml_lint.publishing.rollback``). Checked against mlflow 3.17.2.
    """
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    return get_artifact_repository(location)


def modules_to_distributions() -> Mapping[str, Sequence[str]]:
    """Which installed distributions provide each top-level module, as MLflow maps them.

    Private: ``mlflow.utils.requirements_utils._init_modules_to_packages_map`` and the
    ``_MODULES_TO_PACKAGES`` it fills once per process. Building the map scans the file list
    of every installed distribution (about half a second), and ``log_model`` builds it anyway
    to check the requirements it is given against the environment: reading MLflow's map makes
    that scan the only one of a ``--log`` (``kedro_ml_lint.publishing.requirements``). Without
    it, the same scan by ``importlib.metadata``. Checked against mlflow 3.17.2.
    """
    from mlflow.utils import requirements_utils

    build = getattr(requirements_utils, "_init_modules_to_packages_map", None)
    if build is not None:
        build()
        found = getattr(requirements_utils, "_MODULES_TO_PACKAGES", None)
        if isinstance(found, Mapping):
            return found
    from importlib import metadata

    return metadata.packages_distributions()


def model_name_refusal(name: str, *, registered: bool) -> str | None:
    """Why MLflow would refuse ``name`` for a logged model (and a registered one); else ``None``.

    Private: ``mlflow.utils.validation._validate_logged_model_name`` (the ``name`` of
    ``log_model``) and ``_validate_model_name`` (a registered model's). Calling MLflow's own
    checks, not a copy of their rules, keeps the refusal exactly MLflow's as it changes
    (MLflow 3 added ``'``, ``"``, ``.`` and ``%`` to what a logged model's name may not
    hold). Needed to refuse such a name before a run trains or a store is touched
    (``kedro_ml_lint.publishing.store.refuse_bad_model_name``). Checked against mlflow 3.17.2.
    """
    logged, registered_name = MODEL_NAME_VALIDATORS
    return _first_refusal([logged, registered_name] if registered else [logged], name)


# MLflow's checks of a logged model's name and of a registered model's, by their names.
MODEL_NAME_VALIDATORS: list[tuple[str, ...]] = [
    ("_validate_logged_model_name",),
    ("_validate_model_name",),
]


def alias_refusal(alias: str) -> str | None:
    """Why MLflow would refuse ``alias`` as a registered model's alias; else ``None``.

    Private: ``mlflow.utils.validation._validate_alias_name`` (characters, length) and
    ``_validate_alias_name_reserved`` (``latest``, ``v<N>``) — before MLflow 3.18
    ``_validate_model_alias_name`` and ``_validate_model_alias_name_reserved`` —, which
    ``MlflowClient.set_registered_model_alias`` applies. Calling MLflow's own checks keeps the
    refusal MLflow's as it changes. Needed to refuse ``--alias`` before a run trains or a
    store is touched (``kedro_ml_lint.publishing.store.refuse_bad_alias``). Checked against
    mlflow 3.17.2 and 3.18.0.
    """
    return _first_refusal(ALIAS_VALIDATORS, alias)


# Each of MLflow's alias checks, by its names across versions (MLflow 3.18 dropped `model_`).
ALIAS_VALIDATORS: list[tuple[str, ...]] = [
    ("_validate_alias_name", "_validate_model_alias_name"),
    ("_validate_alias_name_reserved", "_validate_model_alias_name_reserved"),
]


def validator(names: tuple[str, ...]) -> Any:
    """MLflow's validator under the first of ``names`` this MLflow has, else ``None``."""
    from mlflow.utils import validation

    for name in names:
        check = getattr(validation, name, None)
        if check is not None:
            return check
    return None


def _first_refusal(checks: list[tuple[str, ...]], value: str) -> str | None:
    """The message of the first of MLflow's validators that refuses ``value``.

    Each check is named by its names across MLflow versions; one this MLflow has under none
    of them is skipped (the store then refuses what it refuses; a test fails first:
    tests/test_compat_seams.py).
    """
    from mlflow.exceptions import MlflowException

    for names in checks:
        check = validator(names)
        if check is None:
            continue
        try:
            check(value)
        except MlflowException as exc:
            return str(exc.message)
    return None


def connection_failed(exc: BaseException) -> bool:
    """``exc`` says the tracking store cannot be reached: another request would fail alike.

    Recognised by type, along the chain of causes and contexts, never by message text:

    - an HTTP store: MLflow's REST client (``mlflow.utils.rest_utils.http_request``) raises
      ``MlflowException("API request to … failed with exception …")`` *inside* the
      ``except`` for the error of ``requests`` (no ``from``: it is the implicit context) —
      ``requests.exceptions.ConnectionError`` (refused, reset, aborted, no route; it wraps
      urllib3's ``MaxRetryError``/``NewConnectionError``/``ProtocolError``) or
      ``RetryError`` (retries on error statuses exhausted); an artifact upload may raise
      the urllib3 error or the builtin ``ConnectionError`` itself;
    - a database store: MLflow's SQLAlchemy session turns ``sqlalchemy.exc.OperationalError``
      (a database file that cannot be opened, a server that is gone, a lock held past
      SQLite's 20 s busy timeout) into ``MlflowException(error_code=TEMPORARILY_UNAVAILABLE)
      from`` it.

    Checked against mlflow 3.17.2, requests 2.34.2, urllib3 2.8.0, SQLAlchemy 2.1.9. Each library is
    optional here (``mlflow-skinny`` has no SQLAlchemy).
    """
    kinds: list[type[BaseException]] = [ConnectionError]
    try:
        import requests.exceptions

        kinds += [requests.exceptions.ConnectionError, requests.exceptions.RetryError]
    except ImportError:
        pass
    try:
        import urllib3.exceptions

        kinds += [urllib3.exceptions.MaxRetryError, urllib3.exceptions.ProtocolError]
    except ImportError:
        pass
    try:
        import sqlalchemy.exc

        kinds.append(sqlalchemy.exc.OperationalError)
    except ImportError:
        pass
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, tuple(kinds)):
            return True
        current = current.__cause__ or current.__context__
    return False


def parse_serving_input(payload: str, input_schema: Any) -> Any:
    """The model input MLflow's scoring server reads from the JSON ``payload``.

    Internal: ``mlflow.pyfunc.scoring_server.infer_and_parse_data`` (no leading underscore,
    but not in MLflow's documented API), what ``mlflow models serve`` parses a request's
    ``dataframe_split``/``dataframe_records``/``instances``/``inputs`` with, guided by the
    signature's input schema. Needed to check the logged input example the way a server
    will read it, before the store is touched (``kedro_ml_lint.publishing.prepare``).
    Checked against mlflow 3.17.2.
    """
    import json

    from mlflow.pyfunc.scoring_server import infer_and_parse_data

    decoded = json.loads(payload)
    data = {key: value for key, value in decoded.items() if key != "params"}
    return infer_and_parse_data(data, input_schema)
