"""Entry points of logging: what ``check --log`` and the hook call.

Logging is all or nothing: every model is built and smoke-tested first
(:mod:`~kedro_ml_lint.publishing.prepare`), then logged in one store transaction
(:mod:`~kedro_ml_lint.publishing.transaction`) that removes everything it made on failure.
"""

from __future__ import annotations

import dataclasses
import gc
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.progress import NO_PROGRESS, Progress
from kedro_ml_lint.publishing import transaction
from kedro_ml_lint.publishing.alias import AliasRequest
from kedro_ml_lint.publishing.catalog import project_catalog
from kedro_ml_lint.publishing.describe import project_name
from kedro_ml_lint.publishing.errors import PublishError, require_supported_versions
from kedro_ml_lint.publishing.packaging import stage_code
from kedro_ml_lint.publishing.prepare import Pair, ProjectInfo, prepare
from kedro_ml_lint.publishing.quiet import quiet_kedro
from kedro_ml_lint.publishing.transaction import PublishedModel
from kedro_ml_lint.publishing.verify_env import (
    require_env_manager,
    require_input_examples,
    verifier,
)
from kedro_ml_lint.reading.options import run_environment

if TYPE_CHECKING:
    from kedro_ml_lint.api import LintResult

__all__ = [
    "Destination",
    "Pair",
    "PublishedModel",
    "log_models",
    "log_pipeline_ml",
    "project_catalog",
    "publish",
]


@dataclass(frozen=True)
class Destination:
    """Where and under which names the models go.

    Attributes:
        tracking_uri: Where to log; else ``MLFLOW_TRACKING_URI``; else MLflow's default.
        experiment: The experiment name (created when missing); else MLflow's default.
        registered_model_name: Register the model under this name (one pair only).
        extra_tags: More tags for each run and model (the hook's training run id).
        alias: Point this registry alias at the registered version (needs
            ``registered_model_name``).
        gate: Compare the new version with the alias's holder first; refuse a breaking one.
    """

    tracking_uri: str | None = None
    experiment: str | None = None
    registered_model_name: str | None = None
    extra_tags: Mapping[str, str] = field(default_factory=dict)
    alias: str | None = None
    gate: bool = False


# --------------------------------------------------------------------------- entry points


def log_models(
    result: LintResult,
    *,
    env: str | None = None,
    conf_source: str | None = None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    registered_model_name: str | None = None,
    progress: Progress = NO_PROGRESS,
    alias: str | None = None,
    gate: bool = False,
    verify_env: str | None = None,
) -> list[PublishedModel]:
    """Log every pair of a clean ``lint_project`` result, as ``check --log`` does.

    Call it only when ``lint_project(..., artifacts_on_disk=True, publishing=True, lite=False,
    defer=False)`` returned no violation, with the same ``env`` and ``conf_source``: what is
    logged must be the project's modules as imported for real.

    Args:
        result: What ``lint_project`` found (its pairs carry their kedro pipelines).
        env: The configuration environment the project was checked with (else
            ``KEDRO_ENV``, as ``lint_project`` picks it).
        conf_source: The configuration folder the project was checked with.
        tracking_uri: Where to log; else ``MLFLOW_TRACKING_URI``; else MLflow's default.
        experiment: The experiment name (created when missing); else MLflow's default.
        registered_model_name: Register the model under this name (one pair only).
        progress: Where to say what a long step is doing (the CLI's: stderr when watched).
        alias: Point this registry alias at the registered version, inside the transaction
            (needs ``registered_model_name``).
        gate: Compare the new version with the alias's holder before moving it.
        verify_env: ``"uv"`` or ``"virtualenv"``: before it is kept, each model predicts its
            input example in a new environment built by that manager from its requirements
            alone (``--verify-env``).

    Returns:
        One entry per logged pair, in the order of ``result.pairs``.

    Raises:
        MlflowNotInstalledError: When MLflow is not installed.
        PublishError: When an error-severity violation remains or logging fails; nothing
            is then left in the tracking store.
        GateRefused: The gate found a breaking difference; nothing was kept.
    """
    require_supported_versions("`--log`")
    loaded = result.loaded
    # Compiled for deferral, the project's functions call helpers of this process only: a
    # model pickling them would fail wherever it is served, even when nothing was deferred.
    if loaded is not None and (loaded.deferred or loaded.compiled_for_deferral):
        what = f" ({', '.join(loaded.deferred)})" if loaded.deferred else ""
        raise PublishError(
            f"not logging: the project was loaded with deferred imports{what}; lint with "
            "`lint_project(..., lite=False, defer=False)` first, as `check --log` does"
        )
    errors = result.failing()  # warnings (KML202, KML203, KML206) do not block logging
    if errors:
        codes = sorted({v.code for v in errors})
        raise PublishError(f"not logging: {len(errors)} violation(s) remain ({', '.join(codes)})")
    missing = sorted(
        name for pair in result.facts for name in (pair.missing_on_disk or frozenset())
    )
    if any(pair.missing_on_disk is None for pair in result.facts):
        raise PublishError(
            "not logging: artifacts were not checked on disk; lint with "
            "`lint_project(..., artifacts_on_disk=True)` first (KML101)"
        )
    if missing:  # KML101 reports these as violations
        raise PublishError(f"not logging: not on disk yet: {', '.join(missing)} (KML101)")
    pairs = []
    for declaration in result.declarations:
        if declaration.input_name is None:  # KML005
            raise PublishError(f"pair `{declaration.name}` has no `input_name` (KML005)")
        pairs.append(
            Pair.of(
                declaration.name,
                declaration.training,
                declaration.inference,
                declaration.input_name,
            )
        )
    with progress.step("reading the project's catalog"), quiet_kedro():
        package_name, catalog = project_catalog(result.project, run_environment(env), conf_source)
    return publish(
        pairs,
        catalog=catalog,
        project_root=result.project,
        package_name=package_name,
        package_dir=result.loaded.package_dir if result.loaded is not None else None,
        destination=Destination(
            tracking_uri, experiment, registered_model_name, alias=alias, gate=gate
        ),
        progress=progress,
        verify_env=verify_env,
    )


def log_pipeline_ml(
    pipelines: Mapping[str, Any],
    *,
    catalog: Any,
    project_root: str | Path,
    package_name: str,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    registered_model_name: str | None = None,
    extra_tags: Mapping[str, str] | None = None,
    progress: Progress = NO_PROGRESS,
    alias: str | None = None,
    gate: bool = False,
    verify_env: str | None = None,
) -> list[PublishedModel]:
    """Log ``PipelineML`` objects (ours or kedro-mlflow's) with a catalog at hand.

    Args:
        pipelines: ``{name: PipelineML}``.
        catalog: The project's ``DataCatalog``.
        project_root: The project root.
        package_name: The project's Python package, shipped with the model.
        tracking_uri: Where to log; else ``MLFLOW_TRACKING_URI``; else MLflow's default.
        experiment: The experiment name (created when missing); else MLflow's default.
        registered_model_name: Register the model under this name (one pair only).
        extra_tags: More tags for each run and model (the hook's training run id).
        progress: Where to say what a long step is doing (the hook's: stderr when watched).
        alias: Point this registry alias at the registered version, inside the transaction
            (needs ``registered_model_name``).
        gate: Compare the new version with the alias's holder before moving it.
        verify_env: ``"uv"`` or ``"virtualenv"``: before it is kept, each model predicts its
            input example in a new environment built from its requirements alone.

    Returns:
        One entry per logged pair.

    Raises:
        MlflowNotInstalledError: When MLflow is not installed.
        GateRefused: The gate found a breaking difference; nothing was kept.
        PublishError: When logging fails; nothing is then left in the tracking store.
    """
    require_supported_versions("logging a model")
    return publish(
        [
            Pair.of(name, pipeline, pipeline.inference, pipeline.input_name)
            for name, pipeline in pipelines.items()
        ],
        catalog=catalog,
        project_root=Path(project_root),
        package_name=package_name,
        destination=Destination(
            tracking_uri,
            experiment,
            registered_model_name,
            extra_tags or {},
            alias=alias,
            gate=gate,
        ),
        progress=progress,
        verify_env=verify_env,
    )


def publish(
    pairs: Sequence[Pair],
    *,
    catalog: Any,
    project_root: Path,
    package_name: str,
    package_dir: Path | None = None,
    destination: Destination = Destination(),
    progress: Progress = NO_PROGRESS,
    verify_env: str | None = None,
) -> list[PublishedModel]:
    """Log ``pairs``, all or nothing (see the module's docstring).

    Args:
        pairs: The pairs to log.
        catalog: The project's ``DataCatalog``.
        project_root: The project root (its requirements are read there).
        package_name: The project's Python package, shipped in ``code_paths``.
        package_dir: Its folder (``Project.package_dir``); else where it imports from.
        destination: Where and under which names the models go.
        progress: Where to say what a long step is doing.
        verify_env: An environment manager (``"uv"``, ``"virtualenv"``) to prove each model
            with before it is kept (:mod:`~kedro_ml_lint.publishing.verify_env`).

    Returns:
        One entry per pair.

    Raises:
        PublishError: When anything fails; nothing is then left in the tracking store.
    """
    alias = refuse_bad_destination(destination, verify_env)
    registered_model_name = destination.registered_model_name
    if registered_model_name and len(pairs) > 1:
        raise PublishError(
            f"`--registered-model-name {registered_model_name}` names one model but "
            f"{len(pairs)} pairs would be logged "
            f"({', '.join(f'`{p.name}`' for p in pairs)}); choose one with `--pipeline`"
        )
    with _collector_paused(), tempfile.TemporaryDirectory(prefix="kedro-ml-lint-") as workdir:
        work = Path(workdir)
        what = "the model's code and requirements"
        building = progress.step(
            f"building the model{'s' if len(pairs) > 1 else ''} of "
            + ", ".join(f"`{pair.name}`" for pair in pairs)
            + " (its code, artifacts and requirements; a test prediction)"
        )
        try:
            with building:
                code_paths = stage_code(work / "code", package_name, package_dir)
                project = ProjectInfo(
                    root=project_root,
                    name=project_name(project_root, package_name),
                    extra_tags=dict(destination.extra_tags),
                )
                prepared = []
                for index, pair in enumerate(pairs):
                    what = f"the model of `{pair.name}`"
                    with quiet_kedro():
                        prepared.append(
                            prepare(
                                pair,
                                catalog,
                                work / f"pair{index}",
                                code_paths,
                                project,
                                registered_model_name,
                            )
                        )
        except PublishError:
            raise
        except Exception as exc:
            raise PublishError(
                f"cannot build {what}: {type(exc).__name__}: {exc}; nothing was logged"
            ) from exc
        verify = None
        if verify_env is not None:
            require_input_examples(prepared)
            verify = verifier(verify_env, progress)
        published = transaction.log_all(
            prepared, destination.tracking_uri, destination.experiment, progress, alias, verify
        )
        return [dataclasses.replace(model, verified_env=verify_env) for model in published]


def refuse_bad_destination(
    destination: Destination, verify_env: str | None = None
) -> AliasRequest | None:
    """Refuse, before anything runs, an alias, gate or environment manager logging would.

    ``publish`` starts with it; the hook's pre-flight calls it before the run (``check``
    refuses them on its command line too, before the project loads).

    Returns:
        The alias move as the transaction takes it, if any.

    Raises:
        PublishError: The first problem, in one line.
    """
    if verify_env is not None:
        require_env_manager(verify_env)
    return _alias_request(destination)


def _alias_request(destination: Destination) -> AliasRequest | None:
    """``--alias``/``--gate`` as the transaction takes them, refused before anything runs."""
    from kedro_ml_lint.publishing.store import refuse_bad_alias

    if destination.gate and destination.alias is None:
        raise PublishError("the gate compares with an alias's holder: give an alias too")
    if destination.alias is None:
        return None
    if not destination.registered_model_name:
        raise PublishError(
            f"alias `{destination.alias}` names a registered version: give a registered "
            "model name too; nothing was run"
        )
    refuse_bad_alias(destination.alias, what="the alias")
    return AliasRequest(destination.alias, destination.gate)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while publishing; the collector's state comes back after.

    Publishing imports MLflow (and SQLAlchemy, pydantic…) on top of the project's pandas and
    scikit-learn: hundreds of thousands of long-lived objects, and each full collection the
    imports trigger walks the whole heap, for almost no garbage (an eighth of a cold
    ``--log``'s time). Reference counting still frees everything outside a cycle; cycles made
    meanwhile are collected once the collector runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
