"""Read ``pyproject.toml``: Kedro's metadata and our ``[tool.kedro-ml-lint]`` table."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from kedro_ml_lint.errors import NotAKedroProjectError, ProjectConfigError
from kedro_ml_lint.vocabulary import PYPROJECT as PYPROJECT

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

KEDRO_KEYS = ("package_name", "project_name")
VERSION_KEYS = ("kedro_init_version", "project_version")
# Kedro 0.16 and older kept the project's metadata here (0.17.0 moved it to pyproject.toml).
KEDRO_YML = ".kedro.yml"
_RUN_PY_VERSION = re.compile(r"""^\s*project_version\s*=\s*["'](?P<version>[^"']+)["']""")


def read_pyproject(root: Path) -> dict[str, Any]:
    """Parse ``root/pyproject.toml``, turning TOML errors into a file:line message."""
    path = root / PYPROJECT
    if not path.is_file():
        raise NotAKedroProjectError(
            f"`{root}` is not a Kedro project: it has no `{PYPROJECT}`; pass the project's "
            "root folder (the one holding `pyproject.toml` with a `[tool.kedro]` table)"
        )
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ProjectConfigError(f"not valid UTF-8 ({exc.reason})", PYPROJECT) from exc
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ProjectConfigError(
            f"invalid TOML: {str(exc).split(' (at')[0]}", PYPROJECT, line
        ) from exc


def _toml_error_line(message: str) -> int | None:
    marker = "(at line "
    if marker not in message:
        return None
    digits = message.split(marker, 1)[1].split(",", 1)[0]
    return int(digits) if digits.isdigit() else None


def kedro_metadata(pyproject: dict[str, Any], root: Path) -> dict[str, Any]:
    """The ``[tool.kedro]`` table, checked as Kedro of the project's era checked it.

    The project's Kedro version (``kedro_init_version`` or, before 0.19,
    ``project_version``) is stored under ``kedro_version`` as a ``KedroVersion``.
    """
    from kedro_ml_lint.eras import project_version
    from kedro_ml_lint.seams.versions import KedroVersion

    version: KedroVersion | None = None
    table = pyproject.get("tool", {}).get("kedro")
    if not isinstance(table, dict):
        raise NotAKedroProjectError(
            f"`{root}` is not a Kedro project: `{PYPROJECT}` has no `[tool.kedro]` table",
            PYPROJECT,
        )
    if any(isinstance(table.get(key), str) for key in VERSION_KEYS):
        # The version first: a Kedro 0.16 table (`context_path`, no `package_name`) is
        # told its version, not a missing key.
        try:
            version = project_version(table, PYPROJECT)
        except NotAKedroProjectError as exc:
            exc.line = exc.line or _key_line(root, "tool.kedro", VERSION_KEYS)
            raise
    missing = [key for key in KEDRO_KEYS if not isinstance(table.get(key), str)]
    if missing:
        raise NotAKedroProjectError(
            f"`[tool.kedro]` is missing {', '.join(f'`{k}`' for k in missing)}",
            PYPROJECT,
            table_line(root, "tool.kedro"),
        )
    return {**table, "kedro_version": version or project_version(table, PYPROJECT)}


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` whose ``pyproject.toml`` has ``[tool.kedro]``.

    Like ``kedro`` itself, ruff and sqlfluff, a command run from a sub-folder finds its
    project. A ``pyproject.toml`` that does not parse stops the search there: it is
    reported rather than skipped.
    """
    for folder in (start, *start.parents):
        path = folder / PYPROJECT
        if not path.is_file():
            continue
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {})
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, OSError):
            return folder
        if "kedro" in table:
            return folder
    return None


def refuse_older_project(start: Path, root: Path | None) -> None:
    """Stop on a Kedro 0.16 (or older) project at or above ``start``, below ``root``.

    Such a project has ``.kedro.yml`` (``context_path``, and from 0.16.5
    ``project_version``; before, ``project_version`` sat on ``ProjectContext`` in
    ``src/<package>/run.py``) and no ``[tool.kedro]``, so it is told its version and the
    range read, not that it is no Kedro project.

    Args:
        start: The folder given.
        root: The nearest folder with ``[tool.kedro]``, ``None`` when there is none.

    Raises:
        NotAKedroProjectError: When a folder from ``start`` up to (not including)
            ``root`` holds ``.kedro.yml``.
    """
    from kedro_ml_lint.eras import OLDEST_SUPPORTED, unsupported_version
    from kedro_ml_lint.seams.versions import KedroVersion

    for folder in (start, *start.parents):
        if folder == root:
            return
        marker = folder / KEDRO_YML
        if marker.is_file():
            found, where, line = _kedro_yml_version(folder)
            version = KedroVersion.parse(found) if found else None
            if version is not None and version.minor_version >= OLDEST_SUPPORTED:
                raise NotAKedroProjectError(
                    f"`{KEDRO_YML}` records Kedro {found}, which reads a project's metadata "
                    f"from `[tool.kedro]` in `{PYPROJECT}` only; move `package_name`, "
                    "`project_name` and `project_version` there",
                    where,
                    line,
                )
            raise unsupported_version(found, where, line, marker=f"it has `{KEDRO_YML}`")


def _kedro_yml_version(root: Path) -> tuple[str | None, str, int | None]:
    """The Kedro version a ``.kedro.yml`` project records: (version, file, line)."""
    import yaml

    text = _read_text(root / KEDRO_YML)
    try:
        metadata = yaml.safe_load(text)
    except yaml.YAMLError:
        metadata = None
    metadata = metadata if isinstance(metadata, dict) else {}
    version = metadata.get("project_version")
    if isinstance(version, str | int | float) and not isinstance(version, bool):
        return str(version), KEDRO_YML, _first_line(text, "project_version:")
    # Before 0.16.5: `context_path: <package>.run.ProjectContext`, the version on the class.
    context = metadata.get("context_path")
    source_dir = root / str(metadata.get("source_dir", "src"))
    candidates = sorted(source_dir.glob("*/run.py"))
    if isinstance(context, str) and "." in context:
        module = source_dir.joinpath(*context.split(".")[:-1]).with_suffix(".py")
        candidates.insert(0, module)
    for path in candidates:
        for number, line in enumerate(_read_text(path).splitlines(), start=1):
            match = _RUN_PY_VERSION.match(line)
            if match:
                return match.group("version"), path.relative_to(root).as_posix(), number
    return None, KEDRO_YML, None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _first_line(text: str, prefix: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(prefix):
            return number
    return None


def _key_line(root: Path, header: str, keys: tuple[str, ...]) -> int | None:
    """The line of the first of ``keys`` in ``root``'s pyproject ``[header]`` table."""
    start = table_line(root, header)
    if start is None:
        return None
    lines = (root / PYPROJECT).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines[start:], start=start + 1):
        if line.lstrip().startswith("["):
            return None
        if line.split("=", 1)[0].strip() in keys:
            return number
    return None


def lint_table(pyproject: dict[str, Any]) -> dict[str, Any]:
    """The ``[tool.kedro-ml-lint]`` table, empty when absent."""
    table = pyproject.get("tool", {}).get("kedro-ml-lint", {})
    if not isinstance(table, dict):
        raise ProjectConfigError("`tool.kedro-ml-lint` must be a table", PYPROJECT)
    return table


def table_line(root: Path, header: str, occurrence: int = 0) -> int | None:
    """The 1-based line of the ``occurrence``-th ``[header]``/``[[header]]`` in pyproject."""
    seen = 0
    text = (root / PYPROJECT).read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() in (f"[{header}]", f"[[{header}]]"):
            if seen == occurrence:
                return number
            seen += 1
    return None


def read_settings_file(path: Path) -> dict[str, Any]:
    """The settings table of a ``--config`` file.

    A ``pyproject.toml`` (or any file with a ``[tool.kedro-ml-lint]`` table) gives that
    table; any other TOML file is the table itself, as ruff reads ``ruff.toml``. Pairs
    describe the project, not how to check it: they stay in the project's ``pyproject.toml``.

    Raises:
        ProjectConfigError: When the file cannot be read, is not TOML, or declares pairs.
    """
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectConfigError(f"not valid UTF-8 ({exc.reason})", shown) from exc
    except OSError as exc:
        raise ProjectConfigError(
            f"cannot read the --config file: {exc.strerror or exc}", shown
        ) from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ProjectConfigError(f"invalid TOML: {str(exc).split(' (at')[0]}", shown, line) from exc
    if "kedro-ml-lint" in document.get("tool", {}) or path.name == PYPROJECT:
        table = lint_table(document)
    else:
        table = document
    if "pairs" in table:
        raise ProjectConfigError(
            f"a --config file cannot declare `pairs`: declare them in the project's `{PYPROJECT}`",
            shown,
        )
    return table
