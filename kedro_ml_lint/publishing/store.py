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
    cannot create or migrate — two first uses of a fresh store racing on its schema).

    Raises:
        PublishError: When the client cannot be built; nothing was logged.
    """
    from mlflow import MlflowClient

    try:
        return MlflowClient()
    except Exception as exc:
        store = redacted(uri) if uri else "MLflow's default tracking store"
        raise PublishError(
            one_line(
                f"cannot open the tracking store `{store}`: {type(exc).__name__}: "
                f"{redacted(str(exc))}; nothing was logged"
            )
        ) from exc


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
