"""Log or not: the tracking-store side that needs no run — which URI, is it there, a client.

A tracking server that is not there makes MLflow retry for minutes; one look at its
``/health`` endpoint first fails in seconds. The look authenticates the way MLflow's client
does (credentials in the URI, ``MLFLOW_TRACKING_USERNAME``/``_PASSWORD``, a token), and every
message names the store with its credentials redacted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kedro_ml_lint.mlflow.errors import PublishError

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
REACHABLE_TIMEOUT = 5  # seconds for one look at an HTTP tracking server before logging


def check_reachable(uri: str | None) -> None:
    """Fail in seconds, not after MLflow's minutes of retries, when a server is not there."""
    if not uri or not uri.lower().startswith(("http://", "https://")):
        return
    import urllib.error
    import urllib.request

    from kedro_ml_lint.model.names import redact_url_credentials

    try:
        urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=REACHABLE_TIMEOUT).close()
    except urllib.error.HTTPError:
        return  # it answered: whatever the status, the server is there
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PublishError(
            f"the tracking server at `{redact_url_credentials(uri)}` is unreachable "
            f"({reason}); nothing was logged"
        ) from exc


@contextmanager
def using_tracking_uri(uri: str | None) -> Iterator[None]:
    """Use ``uri`` while logging, then restore the process's tracking URI."""
    if uri is None:
        yield
        return
    from mlflow.tracking._tracking_service import utils

    use = getattr(utils, "_use_tracking_uri", None)
    if use is None:  # pragma: no cover - older MLflow
        import mlflow

        mlflow.set_tracking_uri(uri)
        yield
        return
    with use(uri):
        yield
