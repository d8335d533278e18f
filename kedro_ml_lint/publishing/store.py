"""Log or not: the tracking-store side that needs no run — which URI, is it there, a client.

A tracking server that is not there makes MLflow retry for minutes; one look at its
``/health`` endpoint first fails in seconds. The look authenticates the way MLflow's client
does (credentials in the URI, ``MLFLOW_TRACKING_USERNAME``/``_PASSWORD``, a token), and every
message names the store with its credentials redacted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kedro_ml_lint.publishing.errors import PublishError, one_line
from kedro_ml_lint.seams.mlflow_private import tracking_uri_scope

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
USERNAME_ENV = "MLFLOW_TRACKING_USERNAME"
PASSWORD_ENV = "MLFLOW_TRACKING_PASSWORD"
TOKEN_ENV = "MLFLOW_TRACKING_TOKEN"
REACHABLE_TIMEOUT = 5  # seconds for one look at an HTTP tracking server before logging


def check_reachable(uri: str | None) -> None:
    """Fail in seconds, not after MLflow's minutes of retries, when a server is not there.

    The probe sends what MLflow's client would: ``user:password@`` of the URI (or
    ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``) as basic auth, else
    ``MLFLOW_TRACKING_TOKEN`` as a bearer token. Any HTTP answer means the server is there.

    Raises:
        PublishError: When nothing answers; the store is named with credentials redacted.
    """
    if not uri or not uri.lower().startswith(("http://", "https://")):
        return
    import urllib.error
    import urllib.request

    url, headers = _probe(uri)
    try:
        request = urllib.request.Request(f"{url.rstrip('/')}/health", headers=headers)
        urllib.request.urlopen(request, timeout=REACHABLE_TIMEOUT).close()
    except urllib.error.HTTPError:
        return  # it answered: whatever the status, the server is there
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PublishError(
            f"the tracking server at `{redacted(uri)}` is unreachable "
            f"({redacted(str(reason))}); nothing was logged"
        ) from exc


def _probe(uri: str) -> tuple[str, dict[str, str]]:
    """The URL without its userinfo, and the authentication headers MLflow would send."""
    import base64
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(uri)
    userinfo, _, host = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    username = unquote(username) or os.environ.get(USERNAME_ENV, "")
    password = unquote(password) or os.environ.get(PASSWORD_ENV, "")
    headers = {}
    if username or password:
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    elif os.environ.get(TOKEN_ENV):
        headers["Authorization"] = f"Bearer {os.environ[TOKEN_ENV]}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), headers


def redacted(text: str) -> str:
    """``text`` with the credentials of every URL in it hidden."""
    from kedro_ml_lint.model.names import redact_url_credentials

    return redact_url_credentials(text)


def open_client(uri: str | None) -> Any:
    """``MlflowClient()`` on the current tracking URI, or one line naming the store.

    MLflow raises from the constructor on a bad store (an unknown scheme, a sqlite file it
    cannot create or migrate). A sqlite store is opened under :func:`store_creation_lock`,
    so two processes opening one fresh file do not race on its schema.

    Raises:
        PublishError: When the client cannot be built; nothing was logged.
    """
    import mlflow
    from mlflow import MlflowClient

    try:
        # A fresh sqlite file is created and migrated by the first client: one process
        # at a time, or two CI jobs sharing the file race on MLflow's schema migration.
        # The tracking store's creation makes every table, the registry's included.
        with store_creation_lock(mlflow.get_tracking_uri()):
            return MlflowClient()
    except Exception as exc:
        store = redacted(uri) if uri else "MLflow's default tracking store"
        raise PublishError(
            one_line(
                f"cannot open the tracking store `{store}`: {type(exc).__name__}: "
                f"{redacted(str(exc))}; nothing was logged"
            )
        ) from exc


def sqlite_database(uri: str | None) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI; ``None`` for any other store."""
    if not uri or not uri.lower().startswith("sqlite:///"):
        return None
    database = uri[len("sqlite:///") :].split("?", 1)[0]
    if not database or database == ":memory:":
        return None
    return Path(database).absolute()


@contextmanager
def store_creation_lock(uri: str | None) -> Iterator[None]:
    """Hold ``<database>.lock`` beside a sqlite store while it is created or migrated.

    MLflow creates the tables of a new sqlite file (and migrates an old one) when a client
    first opens it, in a series of transactions that a second process doing the same breaks
    ("table _alembic_tmp_latest_metrics already exists"). The lock file sits next to the
    user's store, never in the project; other stores (a server, a database server that
    serialises its own DDL) need none. A folder that does not exist yet gets no lock: MLflow
    reports it.
    """
    database = sqlite_database(uri)
    if database is None or not database.parent.is_dir():
        yield
        return
    from kedro_ml_lint.files import hold_lock

    # Readable and writable by whoever may share the store (the umask still applies).
    lock = hold_lock(Path(f"{database}.lock"), mode=0o666)
    try:
        yield
    finally:
        lock.release()


@contextmanager
def using_tracking_uri(uri: str | None) -> Iterator[None]:
    """Use ``uri`` while logging, then restore the process's tracking URI."""
    if uri is None:
        yield
        return
    use = tracking_uri_scope()
    if use is None:  # older MLflow
        import mlflow

        mlflow.set_tracking_uri(uri)
        yield
        return
    with use(uri):
        yield


def refuse_bad_model_name(name: str | None, *, what: str, registered: bool = True) -> None:
    """Refuse, before anything runs, a model name MLflow would refuse when logging.

    The registered name also names the logged model (``log_model(name=...)``), so it must
    pass both of MLflow's checks; the message is MLflow's own.

    Args:
        name: The name; ``None`` is no name and passes.
        what: Where the name comes from, for the message (``"--registered-model-name"``).
        registered: Whether the name is also a registered model's.

    Raises:
        PublishError: One line naming the name and MLflow's rule; nothing was run.
    """
    if name is None:
        return
    from kedro_ml_lint.publishing.quiet import quiet_kedro
    from kedro_ml_lint.seams.mlflow_private import model_name_refusal

    # Quiet: MLflow's first import sets its logger to INFO, and a level set outside
    # `quiet_kedro` stays (its notes would then reach the user after a failed --log).
    with quiet_kedro():
        refusal = model_name_refusal(name, registered=registered)
    if refusal is not None:
        raise PublishError(
            one_line(f"{what} `{name}` is a name MLflow refuses: {refusal}; nothing was run")
        )


def refuse_bad_alias(alias: str | None, *, what: str = "--alias") -> None:
    """Refuse, before anything runs, an alias MLflow's registry would refuse.

    Args:
        alias: The alias; ``None`` is no alias and passes.
        what: Where the alias comes from, for the message.

    Raises:
        PublishError: One line naming the alias and MLflow's rule; nothing was run.
    """
    if alias is None:
        return
    from kedro_ml_lint.publishing.quiet import quiet_kedro
    from kedro_ml_lint.seams.mlflow_private import alias_refusal

    with quiet_kedro():  # as for names: MLflow's first import sets its logger's level
        refusal = alias_refusal(alias)
    if refusal is not None:
        raise PublishError(
            one_line(f"{what} `{alias}` is an alias MLflow refuses: {refusal}; nothing was run")
        )
