"""A logged model explains itself: run name, tags, params, requirements (via MlflowClient)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import mlflow
import pytest
from mlflow_support import SECRET, copy_project, lint, tracking_uri, trained

import kedro_ml_lint
from kedro_ml_lint.model.redact import redact_requirement_line
from kedro_ml_lint.publishing import PublishError, log_models
from kedro_ml_lint.publishing.requirements import pip_requirements, requirement_file_lines

TOKEN_LINE = f"scikit-learn @ git+https://oauth2:{SECRET}@github.com/scikit-learn/scikit-learn.git"
# What `kedro new` leaves in requirements.txt, plus a private index URL with a token.
REQUIREMENTS = f"""\
ipython>=8.10
jupyterlab>=3.0
notebook
kedro~=1.7
{TOKEN_LINE}
"""


def _git(project: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory):
    churn = trained("churn", tmp_path_factory.mktemp("shared"))
    project = copy_project(churn, tmp_path_factory.mktemp("meta") / "churn")
    # UTF-16 with a BOM, as a Windows `pip freeze > requirements.txt` writes it.
    (project / "requirements.txt").write_bytes(REQUIREMENTS.encode("utf-16"))
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "churn")
    (project / "README.md").write_text("changed after the commit\n")  # a dirty work tree
    uri = tracking_uri(tmp_path_factory.mktemp("meta-store"))
    [published] = log_models(lint(project), tracking_uri=uri, registered_model_name="churn-model")
    return project, uri, published


@pytest.mark.integration
def test_run_and_model_say_where_they_come_from(logged) -> None:
    project, uri, published = logged
    client = mlflow.MlflowClient(uri)
    run = client.get_run(published.run_id)
    assert run.info.run_name == "churn-model"
    expected_tags = {
        "kedro_ml_lint.project": "churn",
        "kedro_ml_lint.version": kedro_ml_lint.__version__,
        "kedro_ml_lint.pipeline": "training",
        "kedro_ml_lint.input_name": "instances",
        "mlflow.source.git.commit": _git(project, "rev-parse", "HEAD"),
        "kedro_ml_lint.git_dirty": "true",
    }
    assert expected_tags.items() <= run.data.tags.items()
    model = client.get_logged_model(published.model_id)
    assert model.name == "churn-model"
    assert expected_tags.items() <= model.tags.items()
    # The pair's parameters, training's and inference's, flattened.
    assert run.data.params == {
        "threshold": "0.5",
        "model_options.C": "1.0",
        "model_options.max_iter": "200",
        "model_options.random_state": "42",
    }


@pytest.mark.integration
def test_requirements_are_what_the_model_imports(logged) -> None:
    _, uri, published = logged
    mlflow.set_tracking_uri(uri)
    local = Path(mlflow.artifacts.download_artifacts(published.model_uri))
    lines = (local / "requirements.txt").read_text().splitlines()
    names = {line.split("==")[0].split("[")[0].split(" @")[0].strip().lower() for line in lines}
    # Imported by the nodes or named by the pickled artifacts; never declared but pinned.
    assert {"kedro", "kedro-datasets", "pandas", "numpy", "scikit-learn", "mlflow"} <= names
    assert not names & {"ipython", "jupyterlab", "notebook", "kedro-ml-lint"}
    assert any(line.startswith("pandas==") for line in lines)
    # The declared URL requirement is kept, without its token, in every file of the model.
    [sklearn] = [line for line in lines if line.startswith("scikit-learn")]
    assert (
        sklearn.replace(" ", "")
        == "scikit-learn@git+https://github.com/scikit-learn/scikit-learn.git"
    )
    leaks = [p for p in local.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaks == []


def test_unreadable_requirements_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "requirements.txt"
    broken.write_bytes(b"# -*- coding: no-such-codec -*-\npandas\n")
    with pytest.raises(PublishError, match=r"requirements\.txt"):
        requirement_file_lines(broken)
    broken.write_bytes("pandas\n".encode("utf-32"))
    assert requirement_file_lines(broken) == ["pandas"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "lib @ git+https://oauth2:tok@github.com/o/lib.git@v1#egg=lib",
            "lib @ git+https://github.com/o/lib.git@v1#egg=lib",
        ),
        # The one redaction module drops a URL's whole query: a signature can hide anywhere.
        ("lib @ https://host/lib.whl?token=tok&x=1", "lib @ https://host/lib.whl"),
        ("pandas>=2", "pandas>=2"),
        ("lib @ https://host/a.whl?x=%2F", "lib @ https://host/a.whl"),
    ],
)
def test_redact_requirement_line(line: str, expected: str) -> None:
    assert redact_requirement_line(line) == expected


def test_declared_requirements_only_where_imported(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pandas>=2\njupyterlab\nrequests\n")
    result = pip_requirements(tmp_path, {"pandas", "os", "IPython"})
    assert "pandas>=2" in result  # declared and imported: as declared
    assert not [r for r in result if r.lower().startswith(("jupyterlab", "requests", "ipython"))]
    assert [r.split("==")[0] for r in result[:3]] == ["kedro", "kedro-datasets", "cloudpickle"]


def test_requirements_read_mlflow_map_without_a_scan_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One scan of the installed packages per ``--log``: MLflow's, which ``log_model`` needs."""
    from importlib import metadata

    def no_second_scan() -> None:
        raise AssertionError("the installed packages were scanned a second time")

    monkeypatch.setattr(metadata, "packages_distributions", no_second_scan)
    result = pip_requirements(tmp_path, {"pandas", "sklearn", "yaml"})
    pinned = {r.split("==")[0].lower() for r in result}
    assert {"pandas", "scikit-learn", "pyyaml"} <= pinned
    assert all("==" in r for r in result)  # exact pins: nothing declared in this project
