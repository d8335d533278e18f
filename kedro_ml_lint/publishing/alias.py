"""``--alias`` and ``--gate``: move a registry alias to the new version, inside the transaction.

Once the version is registered, the alias's current holder (or none) is read and recorded in
the transaction's :class:`~kedro_ml_lint.publishing.records.Records` and journal **before**
the alias moves, so the roll-back (an exception, a signal, the next ``--log`` after a crash)
puts it back (:mod:`~kedro_ml_lint.publishing.rollback`). With the gate, both versions are
downloaded and compared first (:mod:`~kedro_ml_lint.publishing.gate`): a breaking difference
raises :class:`~kedro_ml_lint.publishing.errors.GateRefused`, which rolls the transaction
back; a pass tags the new version with what was compared.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_ml_lint.progress import NO_PROGRESS, Progress
from kedro_ml_lint.publishing.errors import GateRefused, one_line
from kedro_ml_lint.publishing.gate import (
    GateReport,
    compare_predictions,
    compare_requirements,
    compare_signatures,
    signature_summary,
)
from kedro_ml_lint.publishing.requirements import requirement_file_lines
from kedro_ml_lint.publishing.store import redacted

if TYPE_CHECKING:
    from kedro_ml_lint.publishing.journal import Journal
    from kedro_ml_lint.publishing.records import Records

REQUIREMENTS_FILE = "requirements.txt"  # MLflow writes it beside MLmodel


@dataclass(frozen=True)
class AliasRequest:
    """``--alias NAME`` and ``--gate``.

    Attributes:
        alias: The alias to point at the new version.
        gate: Compare the new version with the alias's holder first; refuse a breaking one.
    """

    alias: str
    gate: bool = False


@dataclass(frozen=True)
class AliasMove:
    """An alias that was moved.

    Attributes:
        alias: The alias.
        previous: The version it pointed at before (``None``: it was unset).
        report: What the gate compared, when it ran.
    """

    alias: str
    previous: str | None
    report: GateReport | None = None


def move_alias(
    mlflow: Any,
    client: Any,
    name: str,
    version: str,
    request: AliasRequest,
    records: Records,
    journal: Journal,
    progress: Progress = NO_PROGRESS,
) -> AliasMove:
    """Gate (when asked), record, then point ``request.alias`` of ``name`` at ``version``.

    Raises:
        GateRefused: The gate found a breaking difference; the alias did not move.
    """
    alias = request.alias
    previous = holder_of(client, name, alias)
    report = None
    if request.gate:
        with progress.step(f"comparing `{name}` version {version} with `{alias}`'s holder"):
            report = compare_versions(mlflow, name, version, alias, previous)
        if report.breaking:
            raise GateRefused(report)
        for key, value in report.tags().items():
            client.set_model_version_tag(name, version, key, value)
    records.aliases.append((name, alias, previous))
    journal.write()  # before the move: a crash during it is put back by the next attempt
    client.set_registered_model_alias(name, alias, version)
    return AliasMove(alias=alias, previous=previous, report=report)


def holder_of(client: Any, name: str, alias: str) -> str | None:
    """The version ``alias`` of registered model ``name`` points at, ``None`` when unset."""
    holder = client.get_registered_model(name).aliases.get(alias)
    return str(holder) if holder is not None else None


@dataclass
class _Version:
    """One downloaded model version: its MLmodel, folder and requirement lines."""

    uri: str
    path: Path
    meta: Any
    requirements: list[str] | None


def compare_versions(
    mlflow: Any, name: str, version: str, alias: str, holder: str | None
) -> GateReport:
    """Download the new version and the holder, and compare them (:mod:`.gate`)."""
    new_uri = f"models:/{name}/{version}"
    if holder is None:
        nothing = f"not compared (`{alias}` was unset)"
        return GateReport(alias, new_uri, None, (), nothing, nothing, nothing)
    holder_uri = f"models:/{name}/{holder}"
    with tempfile.TemporaryDirectory(prefix="kedro-ml-lint-gate-") as folder:
        new = _download(mlflow, new_uri, Path(folder) / "new")
        old = _download(mlflow, holder_uri, Path(folder) / "holder")
        signature = compare_signatures(old.meta.signature, new.meta.signature)
        requirements, requirement_words = compare_requirements(old.requirements, new.requirements)
        predictions, prediction_words = _compare_predictions(mlflow, old, new)
    return GateReport(
        alias=alias,
        new_version=new_uri,
        holder=holder_uri,
        differences=(*signature, *requirements, *predictions),
        signature=signature_summary(signature),
        requirements=requirement_words,
        predictions=prediction_words,
    )


def _download(mlflow: Any, uri: str, folder: Path) -> _Version:
    from mlflow.models import Model

    folder.mkdir(parents=True)
    path = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(folder)))
    requirements = path / REQUIREMENTS_FILE
    lines = requirement_file_lines(requirements) if requirements.is_file() else None
    return _Version(uri, path, Model.load(str(path)), lines)


def _compare_predictions(mlflow: Any, old: _Version, new: _Version) -> tuple[list[Any], str]:
    """Both versions predict the new version's logged input example, in this process."""
    try:
        example = new.meta.load_input_example(str(new.path))
        params = new.meta.load_input_example_params(str(new.path)) if example is not None else None
    except Exception as exc:  # an example MLflow cannot read back: shown, not fatal
        return [], one_line(redacted(f"not compared: cannot read the input example ({exc})"), 200)
    if example is None:
        return [], "not compared: the new version logged no input example"
    outputs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    path = sys.path[:]  # load_model puts each version's code folder first: not for our caller
    try:
        for who, version in (("holder", old), ("new", new)):
            try:
                model = mlflow.pyfunc.load_model(str(version.path))
                outputs[who] = model.predict(example, params=params)
            except Exception as exc:
                # Shown and tagged: a URL's credentials in MLflow's words are hidden.
                errors[who] = one_line(redacted(f"{type(exc).__name__}: {_reason(exc)}"), 200)
    finally:
        sys.path[:] = path
    return compare_predictions(
        outputs.get("holder"),
        outputs.get("new"),
        holder_error=errors.get("holder"),
        new_error=errors.get("new"),
    )


def _reason(exc: Exception) -> str:
    """The reason of ``exc``: MLflow's schema errors quote the whole payload before it."""
    text = str(exc)
    return text.rsplit("Error:", 1)[-1].strip() if "Error:" in text else text
