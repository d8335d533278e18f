"""What a project declares it installs: its requirement files and ``pyproject.toml``.

Read to know which MLflow the project's runs use (KML205 judges ``log_model_kwargs``
against it, docs/design.md §2), never to install anything. Files are opened, and folders
listed, rather than stat'ed, so that the snapshot cache records them as inputs (§13): a
new or edited requirement file is a miss.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from kedro_ml_lint.model.wiring import MlflowRange
from kedro_ml_lint.vocabulary import PYPROJECT

if TYPE_CHECKING:
    from packaging.requirements import Requirement

# pip's requirement files and pip-tools' inputs, as Kedro's templates and users name them.
REQUIREMENT_FILE = re.compile(r"requirements[\w.-]*\.(txt|in)")
# A requirement's leading distribution name (PEP 508).
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
MLFLOW_DISTRIBUTIONS = ("mlflow", "mlflow-skinny")
KEDRO_MLFLOW_DISTRIBUTION = "kedro-mlflow"
# The only distributions read: parsing every line would import packaging's marker parser
# (tens of milliseconds) into every check for nothing.
WANTED = frozenset({*MLFLOW_DISTRIBUTIONS, KEDRO_MLFLOW_DISTRIBUTION})


@dataclass(frozen=True)
class Declared:
    """One requirement as the project writes it.

    Attributes:
        requirement: The parsed requirement (name, specifier, extras).
        where: ``path:line`` relative to the project root (``pyproject.toml`` has no line).
    """

    requirement: Requirement
    where: str

    @property
    def name(self) -> str:
        """The distribution's canonical name (``kedro-mlflow`` for ``kedro_mlflow``)."""
        return canonical(self.requirement.name)


def canonical(name: str) -> str:
    """A distribution name as pip compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_requirements(root: Path, source_dir: Path | None = None) -> list[Declared]:
    """The project's requirements of MLflow and kedro-mlflow (``WANTED``), in the order found.

    Args:
        root: The project root.
        source_dir: The folder holding the package (Kedro's ``src``), if known.

    Reads ``requirements*.txt`` and ``requirements*.in`` at the root and in the source
    folder (following ``-r`` includes inside the project), and ``pyproject.toml``'s
    ``[project]`` ``dependencies`` and ``optional-dependencies``. Lines that are not
    requirements (options, URLs, editable installs) and unreadable files are skipped.
    """
    found: list[Declared] = []
    seen: set[Path] = set()
    folders = dict.fromkeys(f for f in (root, source_dir or root / "src") if f is not None)
    for folder in folders:
        for name in _listing(folder):
            if REQUIREMENT_FILE.fullmatch(name):
                _read_file(folder / name, root, found, seen)
    found += _pyproject(root)
    return found


def _listing(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entry.name for entry in entries if entry.is_file())
    except OSError:
        return []


def _read_file(path: Path, root: Path, found: list[Declared], seen: set[Path]) -> None:
    resolved = path.resolve()
    if resolved in seen or not resolved.is_relative_to(root.resolve()):
        return
    seen.add(resolved)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    relative = resolved.relative_to(root.resolve()).as_posix()
    for number, line in _logical_lines(text):
        if line.startswith(_INCLUDES):
            # `-r` requirements and `-c` constraints both bound what pip installs.
            include = line.split(None, 1)[1].strip() if " " in line else ""
            if include:
                _read_file(path.parent / include, root, found, seen)
            continue
        requirement = _parse(line)
        if requirement is not None:
            found.append(Declared(requirement, f"{relative}:{number}"))


_INCLUDES = ("-r ", "--requirement ", "-c ", "--constraint ")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """The logical lines of a pip requirement file, numbered by their first physical line.

    Continuations (a trailing backslash, as ``pip-compile --generate-hashes`` writes them)
    are joined, comments dropped, and a requirement's own options (``--hash=…``) cut off.
    """
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        part = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        if part.rstrip().endswith("\\"):
            pending.append(part.rstrip()[:-1])
            continue
        joined = " ".join([*pending, part]).strip()
        pending = []
        if not joined.startswith("-"):
            joined = joined.split(" --", 1)[0].strip()
        lines.append((start, joined))
    return lines


def _pyproject(root: Path) -> list[Declared]:
    from kedro_ml_lint.reading.pyproject import read_pyproject

    table = read_pyproject(root).get("project", {})
    if not isinstance(table, dict):
        return []
    dependencies = table.get("dependencies")
    lines = list(dependencies) if isinstance(dependencies, list) else []
    optional = table.get("optional-dependencies")
    if isinstance(optional, dict):
        for extra in optional.values():
            lines += extra if isinstance(extra, list) else []
    parsed = (_parse(line) if isinstance(line, str) else None for line in lines)
    return [Declared(r, PYPROJECT) for r in parsed if r is not None]


def _parse(line: str) -> Requirement | None:
    if not line or line.startswith(("#", "-")):
        return None
    name = _NAME.match(line)
    if name is None or canonical(name.group(1)) not in WANTED:
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(line)
    except InvalidRequirement:
        return None


def project_mlflow(declared: list[Declared]) -> MlflowRange | None:
    """The MLflow the project's runs use, as its declarations say; ``None`` when unknown.

    A versioned ``mlflow`` (or ``mlflow-skinny``) requirement decides (several are all
    required: their intersection); else the MLflow range the pinned kedro-mlflow
    releases declare (``compat.kedro_mlflow.KEDRO_MLFLOW_MLFLOW``).
    """
    from kedro_ml_lint.seams.kedro_mlflow import implied_mlflow
    from kedro_ml_lint.seams.mlflow_versions import versions_in

    mlflow = [d for d in declared if d.name in MLFLOW_DISTRIBUTIONS and d.requirement.specifier]
    if mlflow:
        specifiers = SpecifierSet()
        for item in mlflow:
            specifiers &= item.requirement.specifier
        where = ", ".join(f"`{d.requirement}` ({d.where})" for d in mlflow)
        return MlflowRange(
            str(specifiers), f"declared by the project: {where}", versions_in(specifiers)
        )
    pins = [d for d in declared if d.name == KEDRO_MLFLOW_DISTRIBUTION and d.requirement.specifier]
    if not pins:
        return None
    pin = SpecifierSet()
    for item in pins:
        pin &= item.requirement.specifier
    releases, ranges = implied_mlflow(pin)
    if not ranges:
        return None
    versions = sorted({v for text in ranges for v in versions_in(SpecifierSet(text))}, key=Version)
    where = ", ".join(f"`{d.requirement}` ({d.where})" for d in pins)
    span = releases[0] if len(releases) == 1 else f"{releases[0]} to {releases[-1]}"
    return MlflowRange(
        " or ".join(ranges),
        f"implied by {where}: kedro-mlflow {span} requires `mlflow{' or '.join(ranges)}`",
        tuple(versions),
    )
