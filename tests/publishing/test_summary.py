"""The block ``check --log`` and the hook end with, for every kind of tracking store.

The real block, from a real ``check --log``, is pinned by ``golden/log-summary.txt``
(tests/publishing/test_publishing_paths.py); these cases cover the stores no test can start.
"""

from __future__ import annotations

import pytest

from kedro_ml_lint.publishing.summary import run_page, summary_lines
from kedro_ml_lint.publishing.transaction import PublishedModel

RUN = "0123456789abcdef0123456789abcdef"


def model(uri: str, pair: str = "training", **more: str) -> PublishedModel:
    return PublishedModel(
        pair=pair,
        model_uri=f"models:/m-{pair}",
        run_id=RUN,
        model_id=f"m-{pair}",
        tracking_uri=uri,
        experiment_id="7",
        experiment_name="churn",
        **more,
    )


@pytest.mark.parametrize(
    ("uri", "page"),
    [
        ("http://127.0.0.1:5000", f"http://127.0.0.1:5000/#/experiments/7/runs/{RUN}"),
        (
            "https://ml.example.com/mlflow/",
            f"https://ml.example.com/mlflow/#/experiments/7/runs/{RUN}",
        ),
        # Credentials and query never reach the link: a browser asks for them.
        (
            "https://bob:S3CR3T@ml.example.com:8443/?token=S3CR3T",
            f"https://ml.example.com:8443/#/experiments/7/runs/{RUN}",
        ),
        ("http://[::1]:5000", f"http://[::1]:5000/#/experiments/7/runs/{RUN}"),
        # Stores without a server: the page `mlflow ui` serves.
        ("sqlite:////tmp/store/mlflow.db", f"http://127.0.0.1:5000/#/experiments/7/runs/{RUN}"),
        ("file:///tmp/mlruns", f"http://127.0.0.1:5000/#/experiments/7/runs/{RUN}"),
        ("/tmp/mlruns", f"http://127.0.0.1:5000/#/experiments/7/runs/{RUN}"),
        (
            "postgresql+psycopg2://u:p@db/mlflow",
            f"http://127.0.0.1:5000/#/experiments/7/runs/{RUN}",
        ),
        # A store whose UI is its own: no guess.
        ("databricks", None),
        ("databricks://profile", None),
    ],
)
def test_run_page(uri: str, page: str | None) -> None:
    assert run_page(uri, "7", RUN) == page


def test_a_server_needs_no_ui_command_and_its_credentials_are_redacted() -> None:
    lines = summary_lines([model("https://bob:S3CR3T@ml.example.com/")])
    assert lines == [
        "Logged `training` as models:/m-training",
        "  tracking URI: https://***@ml.example.com/",
        "  experiment:   churn (id 7)",
        "  run:          " + RUN,
        f"  run page:     https://ml.example.com/#/experiments/7/runs/{RUN}",
        "  model URI:    models:/m-training",
    ]
    assert "S3CR3T" not in "\n".join(lines)


def test_a_file_store_says_how_to_open_its_ui() -> None:
    lines = summary_lines([model("file:///tmp/my runs")])
    assert "  open the UI:  mlflow ui --backend-store-uri 'file:///tmp/my runs'" in lines


def test_a_database_store_command_never_shows_its_password() -> None:
    text = "\n".join(summary_lines([model("postgresql://mlflow:S3CR3T@db:5432/mlflow")]))
    assert "S3CR3T" not in text
    assert "mlflow ui --backend-store-uri" in text


def test_several_pairs_share_the_store_lines_and_name_their_own() -> None:
    lines = summary_lines(
        [
            model("sqlite:///m.db", "a"),
            model("sqlite:///m.db", "b", registered_model="b-model", registered_version="3"),
        ]
    )
    assert lines[:2] == [
        "Logged `a` as models:/m-a",
        "Logged `b` as models:/m-b (registered as `b-model` version 3)",
    ]
    assert sum(line.startswith("  tracking URI:") for line in lines) == 1
    assert "  model URI of `a`:  models:/m-a" in lines
    assert "  registered of `b`: b-model version 3, models:/b-model/3" in lines
    assert not any("registered of `a`" in line for line in lines)


def test_nothing_logged_is_no_block() -> None:
    assert summary_lines([]) == []


def test_a_token_in_the_query_never_shows() -> None:
    text = "\n".join(summary_lines([model("https://ml.example.com/?token=S3CR3T")]))
    assert "S3CR3T" not in text
