"""Errors of the MLflow side, and the one check that needs no MLflow: is it installed."""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata
from typing import TYPE_CHECKING

from kedro_ml_lint.errors import KedroMlLintError

if TYPE_CHECKING:
    from kedro_ml_lint.publishing.gate import GateReport

# Raised by the artifact code below the publishing layer (PipelineML uses it); named here too.
from kedro_ml_lint.errors import KedroPipelineModelError as KedroPipelineModelError

# The requirements of kedro-ml-lint's `mlflow` extra, spelled out (tests/test_release.py keeps
# them equal to pyproject.toml's): `pip install 'kedro-ml-lint[mlflow]'` works only where the
# package comes from an index that has it, and kedro-ml-lint is installed from a clone, a
# wheel or a git URL today. These install next to any of them, in any shell.
MLFLOW_EXTRA = ("mlflow>=3,<4", "kedro-datasets[pickle-pickledataset]>=5", "uv>=0.6.10")
INSTALL_HINT = "pip install " + " ".join(f'"{requirement}"' for requirement in MLFLOW_EXTRA)


class MlflowNotInstalledError(KedroMlLintError, ImportError):
    """Raised when a feature that logs or serves a model runs without MLflow installed."""


# What a failed ``--log`` says once its roll-back removed everything it had created.
NOTHING_KEPT = "nothing was kept in the tracking store"


class PublishError(KedroMlLintError):
    """Raised when a model cannot be logged; nothing is left in the tracking store."""


class GateRefused(PublishError):
    """Raised when ``--gate`` finds a breaking difference: the alias stays where it was.

    Attributes:
        report: What the gate compared and found (its table: ``report.lines()``).
    """

    def __init__(self, report: GateReport) -> None:
        self.report = report
        breaking = report.breaking
        super().__init__(
            f"the gate refused to move `{report.alias}` from {report.holder} to "
            f"{report.new_version}: {len(breaking)} breaking difference"
            + ("s" if len(breaking) != 1 else "")
            + " ("
            + ", ".join(f"{d.part} `{d.subject}` {d.change}" for d in breaking[:3])
            + (", …" if len(breaking) > 3 else "")
            + ")"
        )

    @property
    def rolled_back(self) -> str:
        """The refusal and that nothing was kept, in one line (it is raised once rolled back)."""
        return f"{self}; {NOTHING_KEPT}"


class UnsupportedVersionError(KedroMlLintError):
    """Raised when logging or serving runs next to a Kedro or MLflow it does not support."""


def require_mlflow(feature: str) -> None:
    """Raise a one-line instruction when MLflow is not importable.

    Args:
        feature: What needs MLflow, for the message (``"`check --log`"``).

    Raises:
        MlflowNotInstalledError: When the ``mlflow`` package cannot be found.
    """
    try:
        found = importlib.util.find_spec("mlflow") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise MlflowNotInstalledError(f"{feature} needs MLflow: {INSTALL_HINT}")


def unsupported_versions(kedro_version: str | None, mlflow_version: str | None) -> str | None:
    """What is wrong with these versions for logging and serving, ``None`` when nothing.

    Kedro's 1.x API (sessions, catalogs, runners) and MLflow 3's logged models are what the
    model and the roll-back are written against; the linter alone also runs on Kedro 0.19.

    Args:
        kedro_version: The installed Kedro's version (``None``: not installed).
        mlflow_version: The installed MLflow's version (``None``: not installed).
    """
    problems = []
    if _major(kedro_version) < 1:
        problems.append(f"Kedro {kedro_version or 'not installed'}")
    if _major(mlflow_version) < 3:
        problems.append(f"MLflow {mlflow_version or 'not installed'}")
    return ", ".join(problems) or None


def _major(version: str | None) -> int:
    match = re.match(r"\s*v?(\d+)", version or "")
    return int(match.group(1)) if match else -1


def require_supported_versions(feature: str) -> None:
    """Raise a one-line error unless Kedro >= 1.0 and MLflow >= 3 are installed.

    Args:
        feature: What needs them, for the message (``"`--log`"``).

    Raises:
        MlflowNotInstalledError: When MLflow is not installed.
        UnsupportedVersionError: When Kedro or MLflow is too old.
    """
    require_mlflow(feature)
    found = unsupported_versions(_version("kedro"), _version("mlflow", "mlflow-skinny"))
    if found:
        raise UnsupportedVersionError(
            f"{feature} needs Kedro 1.x and MLflow 3 (found {found}); "
            "kedro-mlflow 0.14 users keep logging with kedro-mlflow"
        )


def _version(*distributions: str) -> str | None:
    for distribution in distributions:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None


def one_line(text: str, limit: int = 600) -> str:
    """``text`` on one line (MLflow's messages span several), cut at ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
