"""kedro-mlflow's ``pipeline_ml_factory`` as every era of it was called.

- 0.7.x: ``pipeline_ml_factory(training, inference, input_name=None, conda_env=None,
  model_name="model", model_signature="auto", **kpm_kwargs)``;
- 0.8 to 2.x: ``pipeline_ml_factory(training, inference, input_name=None,
  kpm_kwargs=None, log_model_kwargs=None)`` (0.8's migration guide moved
  ``conda_env``, ``model_name`` → ``artifact_path`` and ``model_signature`` →
  ``signature`` into ``log_model_kwargs``; MLflow 3 later renamed ``artifact_path``
  to ``name``, which the factory maps itself).

A call of any era is normalised to the 2.x arguments, so the installed kedro-mlflow,
or our own factory where it is missing, receives what it understands. Also: whether the
plugin is installed or named by a project, and the MLflow each release declares.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet

KEDRO_MLFLOW = "kedro_mlflow"
# 0.7's keyword arguments, and where 0.8+ keeps each one.
_LEGACY_LOG_MODEL_KWARGS = {
    "conda_env": "conda_env",
    "model_name": "artifact_path",
    "model_signature": "signature",
}


@dataclass(frozen=True)
class FactoryCall:
    """One ``pipeline_ml_factory`` call in 2.x terms."""

    training: Any
    inference: Any
    input_name: Any = None
    kpm_kwargs: dict[str, Any] | None = None
    log_model_kwargs: dict[str, Any] | None = None
    legacy: tuple[str, ...] = field(default=())

    def arguments(self) -> tuple[Any, ...]:
        """The positional arguments of the 2.x factory."""
        return (
            self.training,
            self.inference,
            self.input_name,
            self.kpm_kwargs,
            self.log_model_kwargs,
        )


def normalise_factory_call(*args: Any, **kwargs: Any) -> FactoryCall:
    """Read a factory call of any era (see the module docstring).

    Raises:
        TypeError: When the call fits no era (no training or inference pipeline).
    """
    names = ("training", "inference", "input_name", "kpm_kwargs", "log_model_kwargs")
    if len(args) > len(names):
        raise TypeError("pipeline_ml_factory() takes at most 5 positional arguments")
    given = dict(zip(names, args, strict=False))
    for name in names:
        if name in kwargs:
            if name in given:
                raise TypeError(f"pipeline_ml_factory() got multiple values for '{name}'")
            given[name] = kwargs.pop(name)
    if "training" not in given or "inference" not in given:
        raise TypeError("pipeline_ml_factory() needs `training` and `inference` pipelines")
    legacy = tuple(sorted(kwargs))
    if kwargs:
        log_model_kwargs = dict(given.get("log_model_kwargs") or {})
        kpm_kwargs = dict(given.get("kpm_kwargs") or {})
        for key, value in kwargs.items():
            if key in _LEGACY_LOG_MODEL_KWARGS:
                log_model_kwargs.setdefault(_LEGACY_LOG_MODEL_KWARGS[key], value)
            else:  # 0.7 passed the rest to KedroPipelineModel (``copy_mode``…)
                kpm_kwargs.setdefault(key, value)
        given["log_model_kwargs"] = log_model_kwargs or None
        given["kpm_kwargs"] = kpm_kwargs or None
    return FactoryCall(**given, legacy=legacy)


def installed() -> bool:
    """True when the real kedro-mlflow can be imported."""
    if KEDRO_MLFLOW in sys.modules:
        return not getattr(sys.modules[KEDRO_MLFLOW], "__kml_stand_in__", False)
    import importlib.util

    try:
        return importlib.util.find_spec(KEDRO_MLFLOW) is not None
    except (ImportError, ValueError):
        return False


# The distribution name kedro-mlflow 2.x declares, which Kedro matches *exactly* against
# ``DISABLE_HOOKS_FOR_PLUGINS`` (pluggy's ``project_name``): assumed where it is not installed.
DISTRIBUTION = "kedro_mlflow"


def in_project_environment(declared: bool, source_dir: Path) -> bool:
    """Whether kedro-mlflow is installed where the project runs.

    It is when it is installed here (this is the project's environment), when the project
    declares it (a requirement), or when the project's code names it: a pre-commit hook's
    environment has no kedro-mlflow, and must not take a project that uses it for one that
    does not, nor the other way round.

    Args:
        declared: The project's requirements name kedro-mlflow.
        source_dir: The folder of the project's code, scanned for the module's name.
    """
    return installed() or declared or mentioned_in(source_dir)


def mentioned_in(source_dir: Path) -> bool:
    """True when some source file names kedro-mlflow (a cheap scan, no parsing)."""
    needle = KEDRO_MLFLOW.encode()
    for path in source_dir.rglob("*.py"):
        try:
            if needle in path.read_bytes():
                return True
        except OSError:
            continue
    return False


def distribution_name() -> str:
    """The name kedro-mlflow's distribution declares (:data:`DISTRIBUTION` when absent)."""
    from importlib import metadata

    try:
        return str(metadata.distribution("kedro-mlflow").metadata["Name"])
    except metadata.PackageNotFoundError:
        return DISTRIBUTION


def made_by_kedro_mlflow(pipeline: object) -> bool:
    """True for kedro-mlflow's PipelineML, or ours standing in for a call of its factory."""
    return type(pipeline).__module__.startswith(KEDRO_MLFLOW + ".") or bool(
        getattr(pipeline, MADE_BY_KEDRO_MLFLOW, False)
    )


MADE_BY_KEDRO_MLFLOW = "_kml_made_by_kedro_mlflow"


# The MLflow each kedro-mlflow release declares (its ``install_requires``), for a project
# that pins kedro-mlflow but not MLflow (KML205). Sources: the wheels' ``Requires-Dist`` of
# 0.12.2, 0.13.0, 0.13.4, 0.14.0, 0.14.5, 1.0.0, 1.0.2, 2.0.0 and 2.0.3; for older releases
# its README ("compatible with mlflow>=1.0.0"), the ``requirements.txt`` of the 0.11 line
# (``mlflow>=1.0.0, <3.0.0``) and its changelog (0.11.8: "Added support for Mlflow 2.0";
# 0.13.0: drop ``mlflow<1.29.0``; 0.14.0: pin ``mlflow>=2.7.0``).
KEDRO_MLFLOW_MLFLOW: tuple[tuple[tuple[str, ...], str], ...] = tuple(
    (tuple(releases.split()), mlflow)
    for releases, mlflow in (
        (
            "0.7.0 0.7.1 0.7.2 0.7.3 0.7.4 0.7.5 0.7.6 0.8.0 0.8.1 0.9.0 0.10.0 "
            "0.11.0 0.11.1 0.11.2 0.11.3 0.11.4 0.11.5 0.11.6 0.11.7",
            ">=1.0.0,<2.0.0",
        ),
        ("0.11.8 0.11.9 0.11.10 0.12.0 0.12.1 0.12.2", ">=1.0.0,<3.0.0"),
        ("0.13.0 0.13.1 0.13.2 0.13.3 0.13.4", ">=1.29.0,<3.0.0"),
        ("0.14.0 0.14.1 0.14.2 0.14.3 0.14.4 0.14.5 1.0.0 1.0.1 1.0.2", ">=2.7.0,<3.0.0"),
        ("2.0.0 2.0.1 2.0.2 2.0.3", ">=3.0.0,<4.0.0"),
    )
)


def implied_mlflow(pin: SpecifierSet) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The kedro-mlflow releases ``pin`` allows, and the MLflow ranges they declare.

    Both empty when the pin allows no release the table knows (a newer kedro-mlflow:
    its MLflow is unknown).
    """
    releases: list[str] = []
    ranges: list[str] = []
    for versions, mlflow in KEDRO_MLFLOW_MLFLOW:
        allowed = [v for v in versions if pin.contains(v, prereleases=True)]
        if allowed:
            releases += allowed
            ranges.append(mlflow)
    return tuple(releases), tuple(ranges)
