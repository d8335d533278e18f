"""What MLServer (with its MLflow runtime) and KServe expect, as the installed versions say.

Everything version-specific about the two servers lives here: MLServer's settings are built
and validated by MLServer's own pydantic classes (``mlserver.settings``), the MLflow versions
its MLflow runtime loads are read from mlserver-mlflow's own requirement, and the KServe
resource (``serving.kserve.io/v1beta1`` ``InferenceService``, the ``mlflow`` model format
served with the V2 protocol) is the shape KServe's SDK generates its classes from
(``tests/publishing/test_mlserver.py`` checks it against them).
"""

from __future__ import annotations

import importlib.util
import json
import re
from importlib import metadata
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

# The distributions `export --target mlserver` needs, spelled out as kedro-ml-lint's
# `[mlserver]` extra has them (tests/publishing/test_export.py keeps them equal).
MLSERVER_EXTRA = ("mlserver>=1.6", "mlserver-mlflow>=1.6")
MLSERVER_INSTALL_HINT = "pip install " + " ".join(f'"{r}"' for r in MLSERVER_EXTRA)
# What an MLServer 1.7 environment must also pin: uvloop 0.22 made `asyncio.get_event_loop()`
# raise where no loop runs, and MLServer 1.7.1's inference workers call it as they start
# (MLServer issue 2286, open): every worker dies and no model loads.
MLSERVER_PINS = ("uvloop<0.22",)
# MLServer's MLflow runtime, as `model-settings.json` names its implementation.
MLFLOW_RUNTIME = "mlserver_mlflow.MLflowRuntime"
# Where `model-settings.json` points: its own folder, which holds the MLmodel file. MLServer
# resolves a relative `parameters.uri` against the folder of the settings file
# (`mlserver.utils.to_absolute_path`), so the exported folder can be moved or mounted.
MODEL_URI_BESIDE_SETTINGS = "./"

KSERVE_API_VERSION = "serving.kserve.io/v1beta1"
KSERVE_KIND = "InferenceService"
KSERVE_MODEL_FORMAT = "mlflow"  # served by KServe's MLServer runtime (kserve-mlserver)
KSERVE_PROTOCOL = "v2"
# A Kubernetes object name: an RFC 1123 label (KServe also makes it a host name).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def mlserver_missing() -> str | None:
    """The first of MLServer's distributions that is not importable, ``None`` when both are."""
    for module, distribution in (("mlserver", "mlserver"), ("mlserver_mlflow", "mlserver-mlflow")):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return distribution
    return None


def runtime_mlflow_requirement() -> tuple[str, Requirement | None]:
    """The installed mlserver-mlflow's version and its requirement on MLflow (``None``: none).

    Read from its own metadata (``importlib.metadata``): 1.7.1 says ``mlflow (>=2.19.0)``.
    """
    version = metadata.version("mlserver-mlflow")
    for line in metadata.requires("mlserver-mlflow") or ():
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.name.lower() in {"mlflow", "mlflow-skinny"} and not requirement.marker:
            return version, requirement
    return version, None


def unsupported_mlflow(model_mlflow: str | None) -> str | None:
    """Why the installed MLServer MLflow runtime cannot load a model saved by ``model_mlflow``.

    Args:
        model_mlflow: The ``mlflow_version`` of the model's MLmodel file (``None``: absent).

    Returns:
        One sentence naming both versions, or ``None`` when the runtime supports the model
        (or the model does not say which MLflow saved it).
    """
    if not model_mlflow:
        return None
    runtime, requirement = runtime_mlflow_requirement()
    if requirement is None or not requirement.specifier:
        return None
    try:
        version = Version(model_mlflow)
    except InvalidVersion:
        return None
    if requirement.specifier.contains(version, prereleases=True):
        return None
    return (
        f"the model was saved by MLflow {model_mlflow}, and the installed mlserver-mlflow "
        f"{runtime} supports MLflow {requirement.specifier}"
    )


def mlserver_settings(name: str) -> dict[str, str]:
    """The files MLServer reads, as JSON text: ``{"settings.json": …, "model-settings.json": …}``.

    Built and validated by MLServer's own classes; only the fields set here are written
    (an ``MLSERVER_*`` variable of the exporting shell never leaks into the files).

    Args:
        name: The model's name: the ``/v2/models/<name>`` of its endpoints.
    """
    from mlserver.settings import ModelParameters, ModelSettings, Settings

    # MLServer's default is `debug: true` (a development server); an export is for deploying.
    server = Settings(debug=False)
    model = ModelSettings(
        name=name,
        implementation=MLFLOW_RUNTIME,
        parameters=ModelParameters(uri=MODEL_URI_BESIDE_SETTINGS),
    )
    return {
        "settings.json": _json(server.model_dump(mode="json", include={"debug"})),
        "model-settings.json": _json(
            model.model_dump(
                mode="json",
                by_alias=True,
                include={"name": True, "implementation_": True, "parameters": {"uri"}},
            )
        ),
    }


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def kserve_name_problem(name: str) -> str | None:
    """Why Kubernetes refuses ``name`` for an InferenceService; ``None`` when it accepts it."""
    if _DNS_LABEL.match(name):
        return None
    return (
        f"`{name}` is not a Kubernetes name: at most 63 lowercase letters, digits and `-`, "
        "starting and ending with a letter or digit"
    )


def kubernetes_name(text: str) -> str:
    """``text`` made a Kubernetes name (lowercase, other characters as ``-``), else ``model``."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    return name or "model"


def inference_service(name: str, storage_uri: str) -> dict[str, Any]:
    """A KServe ``InferenceService`` serving an MLflow model with the V2 protocol.

    Args:
        name: Its ``metadata.name``.
        storage_uri: Where KServe's storage initializer downloads the model folder from.
    """
    return {
        "apiVersion": KSERVE_API_VERSION,
        "kind": KSERVE_KIND,
        "metadata": {"name": name},
        "spec": {
            "predictor": {
                "model": {
                    "modelFormat": {"name": KSERVE_MODEL_FORMAT},
                    "protocolVersion": KSERVE_PROTOCOL,
                    "storageUri": storage_uri,
                }
            }
        },
    }
