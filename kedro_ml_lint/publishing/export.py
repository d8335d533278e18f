"""``export``: a logged model as MLServer or KServe deploys it, written all at once.

Both targets download the model's artifacts with MLflow's own
``mlflow.artifacts.download_artifacts`` into ``DIR/<name>/``. ``mlserver`` adds
``DIR/<name>/model-settings.json`` (MLServer's MLflow runtime, ``parameters.uri`` the folder
itself) and ``DIR/settings.json``, built by MLServer's own settings classes
(``seams/serving.py``); ``mlserver start DIR`` serves it. ``kserve`` adds
``DIR/inferenceservice.yaml``, an ``InferenceService`` for the ``mlflow`` model format and the
V2 protocol whose ``storageUri`` is the one given or a marked placeholder for the uploaded
``DIR/<name>/``. Everything is written into a temporary folder beside ``DIR`` and renamed
into place last: a refusal or an interruption leaves nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kedro_ml_lint.errors import KedroMlLintError
from kedro_ml_lint.publishing.errors import one_line, require_mlflow
from kedro_ml_lint.publishing.store import redacted, store_creation_lock, using_tracking_uri
from kedro_ml_lint.seams import serving

TARGETS = ("mlserver", "kserve")
MANIFEST = "inferenceservice.yaml"
# A name MLServer serves at /v2/models/<name> and that is one folder: no `/`, no `..`.
_MLSERVER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class ExportError(KedroMlLintError):
    """Raised when a model cannot be exported; nothing was written."""


@dataclass(frozen=True)
class Exported:
    """What ``export`` wrote.

    Attributes:
        target: ``mlserver`` or ``kserve``.
        name: The model's name (its folder, its endpoint, its resource name).
        directory: ``DIR``.
        files: The files written besides the model's artifacts, relative to ``DIR``.
        mlflow_version: The MLflow version that saved the model.
        placeholder: Whether the manifest's storage URI is a placeholder to replace.
    """

    target: str
    name: str
    directory: Path
    files: tuple[str, ...]
    mlflow_version: str | None
    placeholder: bool = False


def export_model(
    model_uri: str,
    directory: str | Path,
    target: str,
    *,
    name: str | None = None,
    storage_uri: str | None = None,
    tracking_uri: str | None = None,
) -> Exported:
    """Write what ``target`` needs to serve the model at ``model_uri`` into ``directory``.

    Args:
        model_uri: Any URI MLflow downloads a model from (``models:/<name>/<version>``,
            ``models:/<id>``, ``runs:/<run>/<path>``, a folder).
        directory: ``DIR``: must not exist, or be an empty folder; its parent must exist.
        target: ``mlserver`` or ``kserve``.
        name: The model's name; default: the registered or logged model's name.
        storage_uri: ``kserve``: where the model folder is uploaded (default: a placeholder).
        tracking_uri: The tracking store (default: ``MLFLOW_TRACKING_URI``, MLflow's default).

    Returns:
        What was written.

    Raises:
        ExportError: One line saying what is wrong; nothing was written.
    """
    if target not in TARGETS:
        raise ExportError(f"unknown target `{target}`: choose one of {', '.join(TARGETS)}")
    destination = _refuse_destination(Path(directory))
    if storage_uri is not None:
        if target != "kserve":
            raise ExportError("--storage-uri is for --target kserve; nothing was written")
        _refuse_storage_uri(storage_uri)
    if name is not None:
        _refuse_name(name, target)
    require_mlflow("`export`")
    if target == "mlserver":
        missing = serving.mlserver_missing()
        if missing is not None:
            raise ExportError(
                f"`export --target mlserver` needs {missing} (kedro-ml-lint's [mlserver] "
                f"extra): {serving.MLSERVER_INSTALL_HINT}; nothing was written"
            )

    from kedro_ml_lint.publishing.quiet import quiet_kedro

    with quiet_kedro(), using_tracking_uri(tracking_uri):
        try:
            scratch = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
        except OSError as exc:
            raise ExportError(
                f"{directory}: cannot write beside it: {exc.strerror or exc}; nothing was written"
            ) from exc
        try:
            exported = _write(model_uri, scratch, destination, target, name, storage_uri)
            _move_into_place(scratch, destination)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return exported


def _refuse_destination(directory: Path) -> Path:
    destination = directory.expanduser().absolute()
    if destination.exists() and not destination.is_dir():
        raise ExportError(f"{directory}: exists and is not a folder; nothing was written")
    if destination.is_dir() and any(destination.iterdir()):
        raise ExportError(
            f"{directory}: the folder is not empty; export into a new or empty folder"
        )
    if not destination.parent.is_dir():
        raise ExportError(f"{directory}: its parent folder does not exist; create it first")
    return destination


def _refuse_storage_uri(uri: str) -> None:
    parts = urlsplit(uri)
    if not parts.scheme or "://" not in uri:
        raise ExportError(
            f"--storage-uri `{redacted(uri)}` is not a URI KServe downloads from "
            "(s3://…, gs://…, pvc://…, https://…); nothing was written"
        )
    if parts.username or parts.password:
        raise ExportError(
            f"--storage-uri `{redacted(uri)}` holds credentials: KServe reads them from a "
            "Kubernetes secret of its service account, never the manifest; nothing was written"
        )


def _refuse_name(name: str, target: str) -> None:
    if target == "kserve":
        problem = serving.kserve_name_problem(name)
        if problem:
            raise ExportError(f"--name {problem}; nothing was written")
    elif not _MLSERVER_NAME.match(name):
        raise ExportError(
            f"--name `{name}` cannot name an MLServer model (its folder and "
            "/v2/models/<name>): letters, digits, `.`, `_` and `-`; nothing was written"
        )


def _write(
    model_uri: str,
    scratch: Path,
    destination: Path,
    target: str,
    name: str | None,
    storage_uri: str | None,
) -> Exported:
    """Download and write everything into ``scratch``, which becomes ``destination``."""
    name = name or serving.kubernetes_name(_model_name(model_uri))
    model_folder = scratch / name
    mlflow_version = _download(model_uri, scratch / ".download", model_folder)
    if target == "mlserver":
        problem = serving.unsupported_mlflow(mlflow_version)
        if problem:
            raise ExportError(
                f"{model_uri}: MLServer cannot load it: {problem}; nothing was written"
            )
        files = serving.mlserver_settings(name)
        (scratch / "settings.json").write_text(files["settings.json"], encoding="utf-8")
        (model_folder / "model-settings.json").write_text(
            files["model-settings.json"], encoding="utf-8"
        )
        written: tuple[str, ...] = ("settings.json", f"{name}/model-settings.json")
        return Exported(target, name, destination, written, mlflow_version)
    placeholder = storage_uri is None
    manifest = serving.inference_service(name, storage_uri or _placeholder(name))
    _write_manifest(scratch / MANIFEST, manifest, name if placeholder else None)
    return Exported(target, name, destination, (MANIFEST,), mlflow_version, placeholder)


def _placeholder(name: str) -> str:
    return f"REPLACE-ME://the-uri-of-the-uploaded-{name}-folder"


def _model_name(model_uri: str) -> str:
    """The registered model's name, the logged model's, or the URI's last part."""
    from mlflow import MlflowClient

    parts = model_uri.split("/")
    if model_uri.startswith("models:/") and len(parts) >= 2:
        first = parts[1].split("@", 1)[0]
        if len(parts) >= 3 or "@" in parts[1]:
            return first  # models:/<registered>/<version> or models:/<registered>@<alias>
        if first.startswith("m-"):
            with store_creation_lock(_current_tracking_uri()):
                client = MlflowClient()
            try:
                return str(client.get_logged_model(first).name)
            except Exception as exc:
                raise _unresolved(model_uri, exc) from exc
        return first
    return next((part for part in reversed(parts) if part), "model")


def _current_tracking_uri() -> str:
    import mlflow

    return str(mlflow.get_tracking_uri())


def _download(model_uri: str, downloads: Path, folder: Path) -> str | None:
    """Download the model to ``folder``; the MLflow version that saved it.

    MLflow puts a ``models:/`` URI's files in the destination itself, and a run's or a
    folder's under their last path part: the folder it answers is moved to ``folder``.
    """
    import mlflow
    from mlflow.models import Model

    downloads.mkdir()
    # Only these read the tracking store (a sqlite one is created under its lock); a folder
    # or an artifact store URI must not leave a lock file beside MLflow's default store.
    in_store = model_uri.startswith(("models:/", "runs:/"))
    try:
        with store_creation_lock(_current_tracking_uri() if in_store else None):
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=model_uri, dst_path=str(downloads)
            )
    except Exception as exc:
        raise _unresolved(model_uri, exc) from exc
    mlmodel = Path(local) / "MLmodel"
    if not mlmodel.is_file():
        raise ExportError(
            f"{model_uri}: not an MLflow model (no MLmodel file there); nothing was written"
        )
    version = Model.load(str(mlmodel)).mlflow_version
    os.replace(local, folder)
    shutil.rmtree(downloads, ignore_errors=True)
    return str(version) if version else None


def _unresolved(model_uri: str, exc: BaseException) -> ExportError:
    return ExportError(
        one_line(
            f"{redacted(model_uri)}: the model URI does not resolve: {type(exc).__name__}: "
            f"{redacted(str(exc))}; nothing was written"
        )
    )


def _write_manifest(path: Path, manifest: dict[str, Any], placeholder_for: str | None) -> None:
    """Write the manifest; a placeholder storage URI gets a comment saying what to do."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    document = CommentedMap(manifest)
    if placeholder_for is not None:
        model = manifest["spec"]["predictor"]["model"]
        commented = CommentedMap(model)
        commented.yaml_set_comment_before_after_key(
            "storageUri",
            before=(
                f"REPLACE-ME: upload the folder {placeholder_for}/ beside this file "
                "(s3://, gs://, pvc://, https://…) and put its URI here,\n"
                "or export again with --storage-uri"
            ),
            indent=6,
        )
        predictor = CommentedMap(manifest["spec"]["predictor"])
        predictor["model"] = commented
        document["spec"] = CommentedMap({"predictor": predictor})
    yaml = YAML()
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)


def _move_into_place(scratch: Path, destination: Path) -> None:
    """Rename the finished folder to ``destination`` (an empty folder there is replaced)."""
    try:
        if destination.is_dir():
            destination.rmdir()  # checked empty; os.replace onto a folder is POSIX-only
        os.replace(scratch, destination)
    except OSError as exc:
        raise ExportError(
            f"{destination}: cannot move the export into place: {exc.strerror or exc}"
        ) from exc
