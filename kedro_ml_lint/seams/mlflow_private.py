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
    ``--log`` back (``kedro_ml_lint.publishing.transaction``). Checked against mlflow 3.17.2.
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
