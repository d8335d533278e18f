"""`export`: the KServe manifest, the refusals, and what needs no server (in this process).

The MLServer target is served for real in ``test_mlserver.py``; here ``--target kserve``
exports a real (small) MLflow model folder, and bad input is refused in one line with
nothing written.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import tomllib
from conftest import REPO, USER_CACHE, exclusive, run_cli, tree_digest
from mlflow_support import KEDRO_ENV
from ruamel.yaml import YAML

from kedro_ml_lint.seams import serving


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real MLflow pyfunc model folder (saved locally: no store needed)."""
    import mlflow.pyfunc

    class Constant(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input

    folder = tmp_path_factory.mktemp("saved") / "constant"
    mlflow.pyfunc.save_model(str(folder), python_model=Constant(), pip_requirements=["pandas"])
    return folder


def _manifest(folder: Path) -> dict[str, Any]:
    return YAML(typ="safe").load((folder / "inferenceservice.yaml").read_text())


@pytest.mark.integration  # saving the model starts a process
def test_kserve_manifest_with_a_storage_uri(model: Path, tmp_path: Path) -> None:
    run = run_cli(
        "export",
        model,
        tmp_path / "out",
        "--target",
        "kserve",
        "--name",
        "churn",
        "--storage-uri",
        "s3://models/churn",
    )
    assert run.code == 0, run.stderr
    assert _manifest(tmp_path / "out") == {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "churn"},
        "spec": {
            "predictor": {
                "model": {
                    "modelFormat": {"name": "mlflow"},
                    "protocolVersion": "v2",
                    "storageUri": "s3://models/churn",
                }
            }
        },
    }
    # The folder to upload to the storage URI: the model as MLflow saved it.
    assert (tmp_path / "out/churn/MLmodel").read_bytes() == (model / "MLmodel").read_bytes()
    assert "REPLACE-ME" not in (tmp_path / "out/inferenceservice.yaml").read_text()


@pytest.mark.integration  # saving the model starts a process
def test_kserve_manifest_without_a_storage_uri_has_a_marked_placeholder(
    model: Path, tmp_path: Path
) -> None:
    run = run_cli("export", model, tmp_path / "out", "--target", "kserve")
    assert run.code == 0, run.stderr
    # The default name is the model folder's, made a Kubernetes name.
    manifest = _manifest(tmp_path / "out")
    assert manifest["metadata"]["name"] == "constant"
    storage = manifest["spec"]["predictor"]["model"]["storageUri"]
    assert storage.startswith("REPLACE-ME://")
    text = (tmp_path / "out/inferenceservice.yaml").read_text()
    comment = text[: text.index("storageUri:")].rstrip().splitlines()[-2:]
    assert all(line.strip().startswith("#") for line in comment)
    assert "upload the folder constant/" in comment[0] and "--storage-uri" in comment[1]
    assert "replace the storageUri placeholder" in run.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--target", "tensorflow"), "'tensorflow' is not one of 'mlserver', 'kserve'"),
        (("--target", "kserve", "--name", "Churn_Model"), "is not a Kubernetes name"),
        (("--target", "mlserver", "--name", "../up"), "cannot name an MLServer model"),
        (("--target", "mlserver", "--storage-uri", "s3://b/m"), "is for --target kserve"),
        (("--target", "kserve", "--storage-uri", "models/churn"), "is not a URI KServe"),
        (
            ("--target", "kserve", "--storage-uri", "https://user:S3CR3T-kml@host/m"),
            "holds credentials",
        ),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(
    tmp_path: Path, args: tuple[str, ...], expected: str
) -> None:
    run = run_cli("export", "models:/churn/1", tmp_path / "out", *args)
    assert run.code == 2
    [line] = run.stderr.splitlines()
    assert expected in line
    assert "S3CR3T" not in run.stdout + run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.integration  # importing MLflow starts a process
def test_a_model_uri_that_does_not_resolve(tmp_path: Path) -> None:
    run = run_cli("export", tmp_path / "no-model", tmp_path / "out", "--target", "kserve")
    assert run.code == 2
    [line] = run.stderr.splitlines()
    assert "the model URI does not resolve" in line and "nothing was written" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.integration  # importing MLflow starts a process
def test_a_folder_that_is_no_model(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/README.md").write_text("not a model\n")
    run = run_cli("export", tmp_path / "notes", tmp_path / "out", "--target", "kserve")
    assert run.code == 2
    [line] = run.stderr.splitlines()
    assert "not an MLflow model (no MLmodel file there)" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


def test_a_non_empty_folder_is_left_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "deploy"
    target.mkdir()
    (target / "keep.txt").write_text("mine\n")
    before = tree_digest(tmp_path)
    run = run_cli("export", "models:/churn/1", target, "--target", "kserve")
    assert run.code == 2
    [line] = run.stderr.splitlines()
    assert "the folder is not empty" in line
    assert tree_digest(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [("missing/deploy", "its parent folder does not exist"), ("file", "is not a folder")],
)
def test_a_destination_that_cannot_be_one(tmp_path: Path, where: str, expected: str) -> None:
    (tmp_path / "file").write_text("mine\n")
    before = tree_digest(tmp_path)
    run = run_cli("export", "models:/churn/1", tmp_path / where, "--target", "kserve")
    assert run.code == 2
    [line] = run.stderr.splitlines()
    assert expected in line
    assert tree_digest(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.integration  # saving the model starts a process
def test_an_empty_folder_is_exported_into(model: Path, tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    run = run_cli("export", model, tmp_path / "deploy", "--target", "kserve", "--name", "m")
    assert run.code == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "deploy").iterdir()) == ["inferenceservice.yaml", "m"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deploy"]  # no scratch folder left


@pytest.mark.skipif(
    importlib.util.find_spec("mlserver") is not None, reason="MLServer is installed here"
)
def test_mlserver_target_without_mlserver_names_the_extra(tmp_path: Path) -> None:
    run = run_cli("export", "models:/churn/1", tmp_path / "out", "--target", "mlserver")
    assert run.code == 2
    [line] = run.stderr.splitlines()
    assert "[mlserver] extra" in line
    assert 'pip install "mlserver>=1.6" "mlserver-mlflow>=1.6"' in line
    assert list(tmp_path.iterdir()) == []


def test_the_mlserver_extra_is_what_the_message_installs() -> None:
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert tuple(extras["mlserver"]) == serving.MLSERVER_EXTRA


def test_unsupported_mlflow_names_both_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    from packaging.requirements import Requirement

    monkeypatch.setattr(
        serving, "runtime_mlflow_requirement", lambda: ("1.7.1", Requirement("mlflow (>=2.19.0)"))
    )
    assert serving.unsupported_mlflow("3.17.2") is None
    assert serving.unsupported_mlflow("2.19.0") is None
    assert serving.unsupported_mlflow(None) is None
    assert serving.unsupported_mlflow("2.3.0") == (
        "the model was saved by MLflow 2.3.0, and the installed mlserver-mlflow 1.7.1 "
        "supports MLflow >=2.19.0"
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("churn", "churn"),
        ("Churn_Model v2", "churn-model-v2"),
        ("___", "model"),
        ("x" * 80, "x" * 63),
    ],
)
def test_default_names_are_kubernetes_names(text: str, name: str) -> None:
    assert serving.kubernetes_name(text) == name
    assert serving.kserve_name_problem(name) is None


# KServe's SDK cannot be installed beside MLServer 1.7 or a pandas 3 model (it pins
# pandas<3 and a FastAPI MLServer refuses), and importing it starts its whole model server.
# Its generated OpenAPI classes are the schema: read from its wheel, not imported.
_KSERVE_CLASSES = {
    "InferenceService": "v1beta1_inference_service",
    "V1beta1InferenceServiceSpec": "v1beta1_inference_service_spec",
    "V1beta1PredictorSpec": "v1beta1_predictor_spec",
    "V1beta1ModelSpec": "v1beta1_model_spec",
    "V1beta1ModelFormat": "v1beta1_model_format",
}


def _kserve_wheel() -> Path:
    folder = USER_CACHE / "kedro-ml-lint-tests" / "kserve-wheel"
    folder.mkdir(parents=True, exist_ok=True)
    with exclusive(folder.parent / "kserve-wheel.lock"):
        wheels = sorted(folder.glob("kserve-*.whl"))
        if not wheels:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "-d",
                    str(folder),
                    "kserve",
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
            wheels = sorted(folder.glob("kserve-*.whl"))
    return wheels[-1]


def _schema(wheel: zipfile.ZipFile, module: str) -> dict[str, dict[str, str]]:
    """``{"types": openapi_types, "keys": attribute_map}`` of a generated KServe class."""
    tree = ast.parse(wheel.read(f"kserve/models/{module}.py"))
    found: dict[str, dict[str, str]] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in ("openapi_types", "attribute_map")
        ):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return {"types": found["openapi_types"], "keys": found["attribute_map"]}


@pytest.mark.integration
def test_the_manifest_fits_kserves_own_schema(model: Path, tmp_path: Path) -> None:
    run = run_cli(
        "export",
        model,
        tmp_path / "out",
        "--target",
        "kserve",
        "--storage-uri",
        "gs://bucket/constant",
    )
    assert run.code == 0, run.stderr
    manifest = _manifest(tmp_path / "out")
    with zipfile.ZipFile(_kserve_wheel()) as wheel:
        schemas = {cls: _schema(wheel, module) for cls, module in _KSERVE_CLASSES.items()}
        constants = wheel.read("kserve/constants/constants.py").decode()
    assert 'KSERVE_GROUP = "serving.kserve.io"' in constants
    assert 'KSERVE_V1BETA1_VERSION = "v1beta1"' in constants
    assert 'KSERVE_KIND_INFERENCESERVICE = "InferenceService"' in constants

    def check(value: dict[str, Any], cls: str, where: str) -> None:
        schema = schemas[cls]
        by_key = {key: attribute for attribute, key in schema["keys"].items()}
        for key, item in value.items():
            assert key in by_key, f"{where}.{key} is not a field of KServe's {cls}"
            kind = schema["types"][by_key[key]]
            if kind in schemas:
                check(item, kind, f"{where}.{key}")
            elif kind == "str":
                assert isinstance(item, str), f"{where}.{key}"

    check(manifest, "InferenceService", "")
    assert manifest["metadata"] == {"name": "constant"}  # V1ObjectMeta: Kubernetes'


@pytest.mark.integration
def test_an_interrupted_export_leaves_nothing(tmp_path: Path) -> None:
    # The export waits for the sqlite store's creation lock, which this test holds: SIGTERM
    # lands while the scratch folder beside DIR exists, always at the same point.
    import os
    import signal
    import time

    from filelock import FileLock

    store = tmp_path / "store"
    store.mkdir()
    lock = FileLock(store / "mlflow.db.lock")
    lock.acquire()
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kedro_ml_lint",
                "export",
                "models:/churn/1",
                "out",
                "--target",
                "kserve",
                "--tracking-uri",
                f"sqlite:///{store / 'mlflow.db'}",
            ],
            cwd=tmp_path,
            env=KEDRO_ENV,  # the kedro_ml_lint under test
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".out.*")):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no scratch folder appeared"
            time.sleep(0.05)
        time.sleep(0.5)  # waiting on the lock now
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        lock.release()
    assert process.returncode == 143, stderr
    assert stdout == ""
    assert stderr.splitlines() == ["kedro-ml-lint: error: interrupted by SIGTERM"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert os.listdir(store) == ["mlflow.db.lock"]
