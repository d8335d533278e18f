"""Tracking URIs with credentials: reachable as MLflow's client finds them, never printed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow_support import SECRET, free_port, lint, trained
from test_faults import MlflowServer, assert_one_line

from kedro_ml_lint.publishing import PublishError, log_models
from kedro_ml_lint.publishing.store import check_reachable, open_client, using_tracking_uri

pytestmark = pytest.mark.integration  # a real `mlflow server` on 127.0.0.1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    running = MlflowServer(tmp_path_factory.mktemp("credentials-server"))
    running.start()
    yield running
    running.stop()


def _with_userinfo(uri: str) -> str:
    return uri.replace("http://", f"http://alice:{SECRET}@")


def test_userinfo_in_the_uri_is_reachable_and_logs(
    server: MlflowServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    uri = _with_userinfo(server.uri)
    check_reachable(uri)  # was: always "unreachable" (urllib refused the userinfo)
    churn = trained("churn", tmp_path_factory.mktemp("shared"))
    [published] = log_models(lint(churn), tracking_uri=uri)
    assert published.model_uri.startswith("models:/")


def test_environment_credentials_are_sent(
    server: MlflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", SECRET)
    check_reachable(server.uri)


def test_unreachable_with_credentials_is_redacted() -> None:
    uri = f"http://alice:{SECRET}@127.0.0.1:{free_port()}"
    with pytest.raises(PublishError) as raised:
        check_reachable(uri)
    message = str(raised.value)
    assert "unreachable" in message and "127.0.0.1" in message
    assert SECRET not in message and "alice" not in message
    assert_one_line(message)


def test_client_construction_errors_are_one_line_and_redacted(tmp_path: Path) -> None:
    # A sqlite store under a regular file, an unknown scheme: MlflowClient() itself raises.
    (tmp_path / "a-file").write_text("")
    uri = f"sqlite:///{tmp_path / 'a-file' / 'mlflow.db'}"
    bad = f"nosuchscheme://alice:{SECRET}@host/store"
    for store in (uri, bad):
        with using_tracking_uri(store), pytest.raises(PublishError) as raised:
            open_client(store)
        message = str(raised.value)
        assert "cannot open the tracking store" in message and "nothing was logged" in message
        assert SECRET not in message
        assert_one_line(message)
