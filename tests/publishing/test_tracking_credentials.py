"""Tracking URIs with credentials: reachable as MLflow's client finds them, never printed."""

from __future__ import annotations

import string
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


# --- what MLflow and Kedro print while logging --------------------------------------------

# Userinfo as users write it: letters, digits and the sub-delimiters a URL allows unquoted.
_USERINFO = st.text(alphabet=string.ascii_letters + string.digits + "-._~!$*+,;=", min_size=1)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(user=_USERINFO, password=_USERINFO.map(lambda tail: f"Pw{tail}Q7"))
def test_no_line_mlflow_or_kedro_prints_while_logging_holds_the_credentials(
    server: MlflowServer, capfd: pytest.CaptureFixture[str], user: str, password: str
) -> None:
    import logging

    import mlflow

    from kedro_ml_lint.publishing.output import redacted_output

    uri = server.uri.replace("http://", f"http://{user}:{password}@")
    capfd.readouterr()
    with redacted_output(), using_tracking_uri(uri):
        # MLflow's own prints: the run link when a run ends (sys.stdout.write in its
        # tracking service) and register_model's notes (eprint, to stderr).
        run = mlflow.start_run()
        mlflow.end_run()
        # Kedro's and MLflow's loggers, and a library that prints the URI.
        logging.getLogger("kedro.io.data_catalog").warning("Loading data from %s", uri)
        logging.getLogger("mlflow.tracking.fluent").warning("tracking at %s", uri)
        print(f"store: {uri}", file=sys.stderr, end="")  # an unfinished line too
    out, err = capfd.readouterr()
    assert f"View run {run.info.run_name} at: http://***@127.0.0.1" in out
    assert password not in out + err
    # The user kept with only the password masked (`http://alice:***@`), wherever a URL is
    # printed; a bare `{user}:` would also match a log line's clock (user `0`, `20:02:11`).
    assert f"//{user}:" not in out + err


def test_check_log_prints_no_credentials(
    server: MlflowServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The real thing: MLflow's run link and everything else `check --log` prints."""
    churn = trained("churn", tmp_path_factory.mktemp("shared"))
    uri = _with_userinfo(server.uri)
    run = run_cli("check", churn, "--log", "--tracking-uri", uri, "--registered-model-name", "c")
    assert run.code == 0, run.stdout + run.stderr
    everything = run.stdout + run.stderr
    assert "View run" in everything and "http://***@127.0.0.1" in everything
    assert SECRET not in everything and "alice" not in everything
    # We create the registered model ourselves: MLflow's "already exists" would mislead; its
    # "Created version" comes before the commit (the summary names the version once kept).
    assert "already exists" not in everything and "Created version" not in everything
    assert "registered:   c version 1" in run.stdout
