"""The block ``check --log`` and the hook end with: where each model went, how to open it.

Pure text from :class:`~kedro_ml_lint.publishing.transaction.PublishedModel` records; it imports
no MLflow. Credentials in the tracking URI are redacted (``model/redact.py``); a run's link
never carries them (a browser asks for them instead).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from kedro_ml_lint.model.redact import redact_text

if TYPE_CHECKING:
    from kedro_ml_lint.publishing.transaction import PublishedModel

# Where `mlflow ui` and `mlflow server` listen unless told otherwise.
LOCAL_UI = "http://127.0.0.1:5000"
# Stores `mlflow ui --backend-store-uri` opens: files and SQLAlchemy databases.
_LOCAL_STORES = ("file", "sqlite", "postgresql", "mysql", "mssql")


def logged_line(model: PublishedModel) -> str:
    """``Logged `<pair>` as models:/<id>``, with the registered name and version if any."""
    registered = (
        f" (registered as `{model.registered_model}` version {model.registered_version})"
        if model.registered_version
        else ""
    )
    return f"Logged `{model.pair}` as {model.model_uri}{registered}"


def summary_lines(models: Sequence[PublishedModel]) -> list[str]:
    """Where the models went: one block, the ``Logged`` line of each model first.

    Then the tracking URI (credentials redacted), the experiment, and for each model its
    run, the run's page in MLflow's UI (for a file or database store, the ``mlflow ui``
    command that serves it first), its model URI, the environment that proved it
    (``--verify-env``), its registered version and the alias moved to it; then what the gate
    compared, if it ran.

    Args:
        models: What one ``--log`` (or one hooked run) logged, all to one store.

    Returns:
        The lines, without line ends; none for no model.
    """
    if not models:
        return []
    first = models[0]
    uri = first.tracking_uri or ""
    lines = [logged_line(model) for model in models]
    rows: list[tuple[str, str]] = [("tracking URI", redact_text(uri) if uri else "unknown")]
    if first.experiment_id is not None:
        rows.append(("experiment", f"{first.experiment_name or '?'} (id {first.experiment_id})"))
    ui_command = _ui_command(uri)
    if ui_command:
        rows.append(("open the UI", ui_command))
    for model in models:
        of = f" of `{model.pair}`" if len(models) > 1 else ""
        rows.append((f"run{of}", model.run_id))
        page = run_page(uri, model.experiment_id, model.run_id)
        if page:
            rows.append((f"run page{of}", page))
        rows.append((f"model URI{of}", model.model_uri))
        if model.verified_env:
            rows.append(
                (f"verified{of}", f"predicts its input example in a fresh {model.verified_env} env")
            )
        if model.registered_version:
            name, version = model.registered_model, model.registered_version
            rows.append((f"registered{of}", f"{name} version {version}, models:/{name}/{version}"))
        if model.alias is not None:
            was = model.alias.previous
            rows.append(
                (
                    f"alias{of}",
                    f"{model.alias.alias} -> version {model.registered_version} "
                    + (f"(was version {was})" if was is not None else "(was unset)")
                    + f", models:/{model.registered_model}@{model.alias.alias}",
                )
            )
    width = max(len(label) for label, _ in rows) + 1
    lines += [f"  {label + ':':<{width}} {value}" for label, value in rows]
    for model in models:  # what the gate compared: its verdict and table
        if model.alias is not None and model.alias.report is not None:
            lines += model.alias.report.lines()
    return lines


def run_page(tracking_uri: str, experiment_id: str | None, run_id: str) -> str | None:
    """The run's page in MLflow's UI, ``None`` where there is none to give.

    A tracking server serves its UI at its own address; a file or database store has the
    page that ``mlflow ui`` serves at :data:`LOCAL_UI`. The link drops the URI's credentials,
    query and fragment.
    """
    if experiment_id is None:
        return None
    parts = urlsplit(tracking_uri)
    scheme = parts.scheme.lower().split("+")[0]
    if scheme in ("http", "https"):
        host = parts.hostname or ""
        if ":" in host:  # IPv6
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    elif _is_local_store(tracking_uri):
        base = LOCAL_UI
    else:
        return None  # databricks, a plugin's store: its UI is its own
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


def _ui_command(tracking_uri: str) -> str | None:
    """``mlflow ui --backend-store-uri …`` for a store with no UI of its own."""
    if not tracking_uri or not _is_local_store(tracking_uri):
        return None
    return f"mlflow ui --backend-store-uri {shlex.quote(redact_text(tracking_uri))}"


def _is_local_store(tracking_uri: str) -> bool:
    if tracking_uri.lower().startswith("databricks"):  # `databricks`, `databricks-uc`: MLflow's
        return False
    scheme = urlsplit(tracking_uri).scheme.lower().split("+")[0]
    # A plain path (`./mlruns`, `C:\\mlruns`: a one-letter "scheme") is a file store.
    return scheme in _LOCAL_STORES or len(scheme) <= 1
